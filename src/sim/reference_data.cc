#include "sim/reference_data.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

#include "sim/random.h"

namespace posflow::sim {
namespace {

// Seed of the customer base and anything else derived at random: fixed, so every run and
// `posflow init` see the same customers ("posflow" in ASCII).
constexpr std::uint64_t kReferenceSeed = 0x706f73666c6f77ULL;
constexpr std::size_t kCustomerCount = 50000;

struct ProvinceRow {
  const char* code;
  const char* name;
  std::int64_t tax_millionths;
  const char* label;
};

// Combined federal + provincial sales tax, as applied to every receipt line by the chain.
constexpr ProvinceRow kProvinces[] = {
    {"AB", "Alberta", 50000, "GST"},
    {"BC", "British Columbia", 120000, "GST + PST"},
    {"MB", "Manitoba", 120000, "GST + RST"},
    {"NB", "New Brunswick", 150000, "HST"},
    {"NL", "Newfoundland and Labrador", 150000, "HST"},
    {"NS", "Nova Scotia", 140000, "HST"},
    {"NT", "Northwest Territories", 50000, "GST"},
    {"NU", "Nunavut", 50000, "GST"},
    {"ON", "Ontario", 130000, "HST"},
    {"PE", "Prince Edward Island", 150000, "HST"},
    {"QC", "Quebec", 149750, "GST + QST"},
    {"SK", "Saskatchewan", 110000, "GST + PST"},
    {"YT", "Yukon", 50000, "GST"},
};

struct StoreRow {
  const char* name;
  const char* address;
  const char* city;
  const char* province_code;
  const char* postal_code;
  const char* time_zone;
  int standard_offset_minutes;
  bool dst;
  int daily_transactions;
  int open_hour;
  int close_hour;
};

constexpr StoreRow kStores[] = {
    {"Boreal Market Queen West", "1180 Queen Street West", "Toronto", "ON", "M6J 1J4",
     "America/Toronto", -300, true, 2600, 7, 23},
    {"Boreal Market Glebe", "815 Bank Street", "Ottawa", "ON", "K1S 3V5", "America/Toronto",
     -300, true, 1700, 8, 22},
    {"Boreal Market Square One", "240 Rathburn Road West", "Mississauga", "ON", "L5B 4E9",
     "America/Toronto", -300, true, 2000, 7, 23},
    {"Boreal Market Westdale", "1015 King Street West", "Hamilton", "ON", "L8S 1L5",
     "America/Toronto", -300, true, 1200, 8, 22},
    {"Boreal Market Plateau", "4320 rue Saint-Denis", "Montréal", "QC", "H2J 2K8",
     "America/Toronto", -300, true, 2300, 7, 23},
    {"Boreal Market Limoilou", "980 3e Avenue", "Québec", "QC", "G1L 2X3", "America/Toronto",
     -300, true, 1300, 8, 22},
    {"Boreal Market Kitsilano", "2285 West 4th Avenue", "Vancouver", "BC", "V6K 1N9",
     "America/Vancouver", -480, true, 2200, 7, 23},
    {"Boreal Market Metrotown", "4700 Kingsway", "Burnaby", "BC", "V5H 4M1",
     "America/Vancouver", -480, true, 1600, 8, 22},
    {"Boreal Market Kensington", "1130 Kensington Road NW", "Calgary", "AB", "T2N 3P3",
     "America/Edmonton", -420, true, 1800, 7, 23},
    {"Boreal Market Whyte Avenue", "10330 82 Avenue NW", "Edmonton", "AB", "T6E 1Z8",
     "America/Edmonton", -420, true, 1500, 8, 22},
    {"Boreal Market Osborne Village", "110 Osborne Street", "Winnipeg", "MB", "R3L 1Y5",
     "America/Winnipeg", -360, true, 1100, 8, 22},
    {"Boreal Market Broadway", "725 Broadway Avenue", "Saskatoon", "SK", "S7N 1B3",
     "America/Regina", -360, false, 900, 8, 21},
    {"Boreal Market North End", "2720 Agricola Street", "Halifax", "NS", "B3K 4C6",
     "America/Halifax", -240, true, 1000, 8, 22},
    {"Boreal Market Churchill Square", "8 Rowan Street", "St. John's", "NL", "A1B 2X1",
     "America/St_Johns", -210, true, 700, 8, 21},
    {"Boreal Market Downtown Moncton", "655 Main Street", "Moncton", "NB", "E1C 1E8",
     "America/Moncton", -240, true, 650, 8, 21},
};

constexpr const char* kCategories[] = {
    "Produce", "Dairy & Eggs", "Bakery", "Meat & Seafood", "Deli & Prepared",
    "Pantry", "Frozen", "Beverages", "Snacks & Sweets", "Household & Personal Care",
};

struct ProductRow {
  int category;  // index into kCategories
  const char* name;
  Cents price_cents;
  // 1 = staple bought on most trips ... 4 = occasional. Popularity ranks follow the tiers.
  int tier;
};

constexpr ProductRow kProducts[] = {
    // Produce
    {0, "Bananas, per bunch", 168, 1},
    {0, "Gala Apples 3 lb Bag", 499, 1},
    {0, "Navel Oranges 4 lb Bag", 649, 2},
    {0, "Seedless Red Grapes, per kg", 661, 3},
    {0, "Strawberries 454 g", 449, 2},
    {0, "Blueberries 170 g", 399, 2},
    {0, "Hass Avocados, 4 pack", 549, 2},
    {0, "Vine Tomatoes, per kg", 440, 2},
    {0, "English Cucumber", 149, 2},
    {0, "Romaine Hearts, 3 pack", 449, 3},
    {0, "Baby Spinach 142 g", 399, 3},
    {0, "Yellow Onions 3 lb Bag", 349, 2},
    {0, "Russet Potatoes 10 lb Bag", 699, 2},
    {0, "Carrots 2 lb Bag", 249, 2},
    {0, "Broccoli Crowns, per kg", 483, 3},
    {0, "Red Bell Peppers, per kg", 659, 3},
    {0, "Lemons, 4 pack", 349, 4},
    {0, "Garlic, 3 pack", 199, 4},
    {0, "White Mushrooms 227 g", 249, 3},
    // Dairy & Eggs
    {1, "Milk 2% 4 L", 629, 1},
    {1, "Milk 1% 2 L", 469, 2},
    {1, "Homogenized Milk 4 L", 659, 2},
    {1, "Large White Eggs, dozen", 429, 1},
    {1, "Free Run Brown Eggs, dozen", 549, 3},
    {1, "Salted Butter 454 g", 649, 2},
    {1, "Old Cheddar Cheese 400 g", 799, 2},
    {1, "Mozzarella Cheese 320 g", 599, 3},
    {1, "Plain Greek Yogurt 750 g", 599, 3},
    {1, "Vanilla Yogurt, 16 x 100 g", 699, 3},
    {1, "Cream 10% 1 L", 449, 3},
    {1, "Cream Cheese 250 g", 399, 4},
    {1, "Oat Beverage Original 1.75 L", 479, 4},
    {1, "Cottage Cheese 2% 500 g", 449, 4},
    // Bakery
    {2, "Whole Wheat Sliced Bread 675 g", 349, 1},
    {2, "White Sliced Bread 675 g", 329, 2},
    {2, "Sourdough Loaf", 499, 3},
    {2, "Plain Bagels, 6 pack", 399, 3},
    {2, "Butter Croissants, 6 pack", 599, 3},
    {2, "English Muffins, 6 pack", 349, 4},
    {2, "Flour Tortillas, 10 pack", 399, 4},
    {2, "Hamburger Buns, 8 pack", 379, 3},
    {2, "Blueberry Muffins, 4 pack", 549, 4},
    {2, "Dinner Rolls, 12 pack", 449, 4},
    {2, "Cinnamon Raisin Bread", 429, 4},
    // Meat & Seafood
    {3, "Boneless Chicken Breasts, about 1 kg", 1599, 1},
    {3, "Lean Ground Beef 454 g", 699, 1},
    {3, "Pork Loin Chops, 4 pack", 1099, 3},
    {3, "Bone-in Chicken Thighs, about 1 kg", 1199, 3},
    {3, "Atlantic Salmon Fillets 400 g", 1299, 2},
    {3, "Raw Shrimp 340 g", 1099, 4},
    {3, "Bacon 375 g", 699, 2},
    {3, "Mild Italian Sausages, 6 pack", 849, 3},
    {3, "Beef Striploin Steak, about 300 g", 1499, 4},
    {3, "Whole Chicken, about 1.8 kg", 1399, 4},
    {3, "Haddock Fillets 400 g", 1099, 4},
    {3, "Ground Turkey 454 g", 749, 4},
    {3, "Stewing Beef 600 g", 1199, 4},
    // Deli & Prepared
    {4, "Black Forest Ham Slices 175 g", 449, 3},
    {4, "Roast Turkey Breast Slices 175 g", 499, 3},
    {4, "Rotisserie Chicken", 1299, 2},
    {4, "Hummus 227 g", 429, 3},
    {4, "Caesar Salad Kit", 349, 3},
    {4, "Sushi Combo, 12 pieces", 1099, 4},
    {4, "Genoa Salami 150 g", 499, 4},
    {4, "Fresh Salsa 350 g", 449, 4},
    {4, "Macaroni Salad 450 g", 499, 4},
    {4, "Quiche Lorraine", 749, 4},
    // Pantry
    {5, "Spaghetti 900 g", 249, 2},
    {5, "Penne Rigate 900 g", 249, 3},
    {5, "Long Grain White Rice 2 kg", 599, 2},
    {5, "Basmati Rice 2 kg", 899, 3},
    {5, "Tomato Pasta Sauce 650 mL", 329, 2},
    {5, "Diced Tomatoes 796 mL", 199, 3},
    {5, "Chicken Noodle Soup 540 mL", 179, 3},
    {5, "Black Beans 540 mL", 159, 4},
    {5, "Chickpeas 540 mL", 159, 4},
    {5, "Creamy Peanut Butter 1 kg", 599, 2},
    {5, "Strawberry Jam 500 mL", 449, 3},
    {5, "Pure Maple Syrup 540 mL", 999, 3},
    {5, "Liquid Honey 500 g", 799, 4},
    {5, "Canola Oil 3 L", 1099, 3},
    {5, "Extra Virgin Olive Oil 1 L", 1399, 3},
    {5, "All-Purpose Flour 2.5 kg", 549, 4},
    {5, "Granulated Sugar 2 kg", 399, 4},
    {5, "Rolled Oats 1 kg", 399, 3},
    {5, "Honey Nut Oat Cereal 430 g", 549, 2},
    {5, "Ground Coffee, Medium Roast 920 g", 1499, 2},
    {5, "Orange Pekoe Tea, 72 bags", 549, 3},
    {5, "Macaroni & Cheese Dinner 200 g", 149, 2},
    {5, "Chunk Light Tuna 170 g", 179, 3},
    {5, "Ketchup 1 L", 449, 3},
    {5, "Yellow Mustard 400 mL", 229, 4},
    {5, "Mayonnaise 890 mL", 599, 4},
    // Frozen
    {6, "Frozen Pepperoni Pizza", 699, 2},
    {6, "Frozen Mixed Vegetables 750 g", 349, 3},
    {6, "Frozen Green Peas 750 g", 299, 4},
    {6, "Frozen Wild Blueberries 600 g", 599, 3},
    {6, "Vanilla Ice Cream 1.5 L", 549, 2},
    {6, "Frozen French Fries 1 kg", 399, 3},
    {6, "Breaded Fish Fillets 600 g", 899, 4},
    {6, "Frozen Chicken Nuggets 800 g", 1099, 3},
    {6, "Frozen Waffles, 8 pack", 349, 4},
    {6, "Beef Lasagna 1 kg", 1049, 4},
    {6, "Cheddar Perogies 907 g", 449, 4},
    // Beverages
    {7, "Orange Juice, Not From Concentrate 2.63 L", 699, 2},
    {7, "Apple Juice 1.89 L", 349, 3},
    {7, "Sparkling Water, 12 x 355 mL", 599, 2},
    {7, "Cola, 12 x 355 mL", 799, 2},
    {7, "Spring Water, 24 x 500 mL", 449, 2},
    {7, "Ginger Ale 2 L", 229, 3},
    {7, "Lemon Iced Tea 1.89 L", 299, 4},
    {7, "Cold Brew Coffee 1 L", 499, 4},
    {7, "Sports Drink 710 mL", 199, 4},
    {7, "Coconut Water 1 L", 399, 4},
    {7, "Ginger Kombucha 414 mL", 349, 4},
    {7, "Chocolate Milk 1 L", 349, 3},
    {7, "Energy Drink 473 mL", 299, 4},
    // Snacks & Sweets
    {8, "Salted Potato Chips 235 g", 399, 2},
    {8, "Tortilla Chips 300 g", 449, 3},
    {8, "Butter Microwave Popcorn, 3 pack", 349, 4},
    {8, "Milk Chocolate Bar 100 g", 249, 3},
    {8, "Chocolate Chip Cookies 300 g", 379, 3},
    {8, "Salted Mixed Nuts 275 g", 699, 4},
    {8, "Chewy Granola Bars, 6 pack", 349, 3},
    {8, "Pretzel Twists 400 g", 349, 4},
    {8, "Gummy Bears 180 g", 249, 4},
    {8, "Rice Crackers 100 g", 279, 4},
    {8, "Butter Tarts, 6 pack", 499, 4},
    {8, "Dark Chocolate 70% 100 g", 329, 4},
    // Household & Personal Care
    {9, "Paper Towels, 6 rolls", 899, 2},
    {9, "Bathroom Tissue, 12 double rolls", 1099, 2},
    {9, "Dish Soap 740 mL", 349, 3},
    {9, "Laundry Detergent 2.95 L", 1299, 3},
    {9, "Garbage Bags, 40 count", 999, 3},
    {9, "Aluminum Foil 25 m", 599, 4},
    {9, "Mint Toothpaste 100 mL", 299, 3},
    {9, "Shampoo 400 mL", 699, 4},
    {9, "Bar Soap, 4 pack", 549, 4},
    {9, "Facial Tissues, 3 boxes", 549, 4},
    {9, "Dishwasher Pods, 30 count", 1199, 4},
    {9, "Sandwich Bags, 100 count", 399, 4},
};

struct PaymentRow {
  const char* name;
  double share;
};

constexpr PaymentRow kPaymentTypes[] = {
    {"Credit Card", 0.36}, {"Debit Card", 0.31}, {"Mobile Wallet", 0.16},
    {"Cash", 0.13},        {"Gift Card", 0.04},
};

constexpr const char* kFirstNames[] = {
    "Olivia", "Liam",   "Amelia",  "Noah",    "Charlotte", "William", "Emma",    "Benjamin",
    "Chloe",  "Lucas",  "Maya",    "Ethan",   "Sofia",     "Jacob",   "Leah",    "Nathan",
    "Zoe",    "Samuel", "Aaliyah", "Owen",    "Hannah",    "Gabriel", "Priya",   "Arjun",
    "Mei",    "Wei",    "Fatima",  "Omar",    "Isabelle",  "Felix",   "Nadia",   "Mateo",
    "Grace",  "Theo",   "Ayesha",  "Daniel",  "Elena",     "Kofi",    "Ingrid",  "Hiroshi",
    "Sarah",  "Marc",   "Julie",   "Raj",     "Naomi",     "Tyler",   "Camille", "Adrian",
};

constexpr const char* kLastNames[] = {
    "Tremblay", "Gagnon",  "Roy",     "Cote",      "Bouchard", "Gauthier", "Morin",   "Lavoie",
    "Smith",    "Brown",   "Wilson",  "MacDonald", "Campbell", "Stewart",  "Anderson", "Taylor",
    "Singh",    "Patel",   "Chen",    "Wong",      "Nguyen",   "Kim",      "Ali",     "Khan",
    "Fraser",   "Murray",  "Boucher", "Leblanc",   "Girard",   "Kowalski", "Novak",   "Rossi",
    "Silva",    "Okafor",  "Mensah",  "Haddad",    "Larsen",   "Sato",     "Sharma",  "Dubois",
    "Martin",   "Clarke",  "Hughes",  "Bergeron",  "Poirier",  "Yusuf",    "Ivanova", "Lindqvist",
};

constexpr const char* kStreetNames[] = {
    "Birch",     "Cedar",    "Spruce",     "Tamarack", "Willow",    "Aspen",   "Juniper",
    "Hemlock",   "Larch",    "Poplar",     "Chestnut", "Sumac",     "Balsam",  "Alder",
    "Lakeview",  "Ridgeway", "Harbourview", "Meadowbrook", "Riverside", "Hillcrest",
    "Sunnyside", "Prospect", "Wellington", "Victoria", "Dufferin",  "Laurier", "Champlain",
    "Frontenac", "Cartier",  "Macleod",
};

constexpr const char* kStreetSuffixes[] = {"Street", "Avenue", "Road", "Drive", "Crescent",
                                           "Lane", "Boulevard", "Court", "Way", "Place"};

constexpr const char* kEmailDomains[] = {"example.com", "example.net", "example.org"};

// Letters Canada Post uses in postal codes (no D, F, I, O, Q, U).
constexpr char kPostalLetters[] = "ABCEGHJKLMNPRSTVWXYZ";

template <typename T, std::size_t N>
constexpr std::size_t CountOf(const T (&)[N]) {
  return N;
}

template <typename T, std::size_t N>
const T& Pick(const T (&table)[N], Rng& rng) {
  return table[rng.Below(N)];
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// A product's place in the popularity order: by tier, then by a fixed scramble, so best sellers
// are spread over the categories rather than following the table order.
void AssignPopularityRanks(std::vector<ProductInfo>* products) {
  struct Key {
    int tier;
    std::uint64_t scramble;
    std::size_t index;
  };
  std::vector<Key> keys;
  for (std::size_t i = 0; i < products->size(); ++i) {
    std::uint64_t state = kReferenceSeed + i;
    keys.push_back({kProducts[i].tier, SplitMix64(&state), i});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    return a.tier != b.tier ? a.tier < b.tier : a.scramble < b.scramble;
  });
  for (std::size_t rank = 0; rank < keys.size(); ++rank) {
    (*products)[keys[rank].index].popularity_rank = static_cast<int>(rank + 1);
  }
}

void BuildCustomers(ReferenceData* data) {
  Rng rng = Rng::Stream(kReferenceSeed, 1);
  std::vector<double> traffic;
  for (const StoreInfo& store : data->stores) traffic.push_back(store.daily_transactions);
  const WeightedChoice home_store(traffic);
  data->customers.reserve(kCustomerCount);
  char buffer[32];
  for (std::size_t i = 0; i < kCustomerCount; ++i) {
    CustomerInfo info;
    info.home_store = home_store.Draw(rng);
    const StoreInfo& store = data->stores[info.home_store];
    event::Customer& customer = info.customer;
    std::snprintf(buffer, sizeof(buffer), "C%05zu", i + 1);
    customer.customer_id = buffer;
    customer.first_name = Pick(kFirstNames, rng);
    customer.last_name = Pick(kLastNames, rng);
    customer.email = Lower(customer.first_name) + "." + Lower(customer.last_name) +
                     std::to_string(i + 1) + "@" + Pick(kEmailDomains, rng);
    customer.street = std::to_string(rng.Between(1, 3999)) + " " + Pick(kStreetNames, rng) +
                      " " + Pick(kStreetSuffixes, rng);
    customer.city = store.store.city;
    customer.province = store.store.province;
    // The store's forward sortation area, and a local delivery unit of the form 9X9.
    customer.postal_code = store.store.postal_code.substr(0, 3) + " ";
    customer.postal_code += static_cast<char>('0' + rng.Below(10));
    customer.postal_code += kPostalLetters[rng.Below(CountOf(kPostalLetters) - 1)];
    customer.postal_code += static_cast<char>('0' + rng.Below(10));
    data->customers.push_back(std::move(info));
  }
}

// Opening stock: two weeks of expected sales plus a floor; restock below four days' worth.
void BuildInventory(ReferenceData* data) {
  const WeightedChoice popularity = MakeZipf(data->products.size(), kProductPopularityExponent);
  constexpr double kLinesPerReceipt = 5.0;
  constexpr double kUnitsPerLine = 1.8;
  for (std::size_t store = 0; store < data->stores.size(); ++store) {
    for (std::size_t product = 0; product < data->products.size(); ++product) {
      const auto rank = static_cast<std::size_t>(data->products[product].popularity_rank - 1);
      const double daily_units = data->stores[store].daily_transactions * kLinesPerReceipt *
                                 popularity.Probability(rank) * kUnitsPerLine;
      InventoryRecord record;
      record.store = store;
      record.product = product;
      record.on_hand = 24 + static_cast<std::int32_t>(daily_units * 14.0);
      record.reorder_point = 6 + static_cast<std::int32_t>(daily_units * 4.0);
      data->inventory.push_back(record);
    }
  }
}

ReferenceData Build() {
  ReferenceData data;
  for (const ProvinceRow& row : kProvinces) {
    data.provinces.push_back({row.code, row.name, row.tax_millionths, row.label});
  }
  char buffer[32];
  for (std::size_t i = 0; i < CountOf(kStores); ++i) {
    const StoreRow& row = kStores[i];
    StoreInfo info;
    std::snprintf(buffer, sizeof(buffer), "S%03zu", i + 1);
    info.store.store_id = buffer;
    info.store.name = row.name;
    info.store.address = row.address;
    info.store.city = row.city;
    info.province_code = row.province_code;
    for (const Province& province : data.provinces) {
      if (province.code == row.province_code) {
        info.store.province = province.name;
        info.sales_tax_millionths = province.sales_tax_millionths;
      }
    }
    assert(!info.store.province.empty() && "store in an unknown province");
    info.store.postal_code = row.postal_code;
    info.time_zone = row.time_zone;
    info.standard_utc_offset_minutes = row.standard_offset_minutes;
    info.observes_dst = row.dst;
    info.daily_transactions = row.daily_transactions;
    info.open_hour = row.open_hour;
    info.close_hour = row.close_hour;
    data.stores.push_back(std::move(info));
  }
  for (const char* category : kCategories) data.categories.push_back(category);
  for (std::size_t i = 0; i < CountOf(kProducts); ++i) {
    const ProductRow& row = kProducts[i];
    ProductInfo info;
    std::snprintf(buffer, sizeof(buffer), "P%04zu", i + 1);
    info.product_id = buffer;
    info.name = row.name;
    info.category = kCategories[row.category];
    info.unit_price_cents = row.price_cents;
    data.products.push_back(std::move(info));
  }
  AssignPopularityRanks(&data.products);
  for (const PaymentRow& row : kPaymentTypes) data.payment_types.push_back({row.name, row.share});
  BuildCustomers(&data);
  BuildInventory(&data);
  return data;
}

}  // namespace

const Province* ReferenceData::FindProvince(std::string_view name) const {
  for (const Province& province : provinces) {
    if (province.name == name) return &province;
  }
  return nullptr;
}

std::optional<std::size_t> ReferenceData::FindStore(std::string_view store_id) const {
  for (std::size_t i = 0; i < stores.size(); ++i) {
    if (stores[i].store.store_id == store_id) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> ReferenceData::FindProduct(std::string_view product_id) const {
  for (std::size_t i = 0; i < products.size(); ++i) {
    if (products[i].product_id == product_id) return i;
  }
  return std::nullopt;
}

const ReferenceData& DefaultReferenceData() {
  static const ReferenceData data = Build();
  return data;
}

Cents SalesTaxCents(Cents subtotal_cents, std::int64_t rate_millionths) {
  // subtotal x rate stays far below 2^63 for any receipt (|subtotal| < 10^12 cents).
  const std::int64_t scaled = subtotal_cents * rate_millionths;
  const std::int64_t magnitude = scaled < 0 ? -scaled : scaled;
  const std::int64_t rounded = (magnitude + 500'000) / 1'000'000;
  return scaled < 0 ? -rounded : rounded;
}

}  // namespace posflow::sim
