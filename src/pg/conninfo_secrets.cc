#include "pg/conninfo_secrets.h"

#include <libpq-fe.h>

#include <cstring>
#include <string>

#include "common/redact.h"
#include "common/secrets.h"

namespace posflow::pg {

void RegisterConninfoSecrets(std::string_view conninfo) {
  if (conninfo.empty()) return;
  const std::string text(conninfo);
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
  if (options != nullptr) {
    for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
      if (option->val == nullptr) continue;
      if (std::strcmp(option->keyword, "password") == 0 ||
          std::strcmp(option->keyword, "sslpassword") == 0) {
        RegisterSecret(option->val);
      }
    }
    PQconninfoFree(options);
  }
  if (error != nullptr) PQfreemem(error);
  // The forms as written: libpq parses a URL's user info only after percent-decoding it, and
  // when that fails its error message quotes the raw text.
  for (const std::string& secret : ConnectionStringSecrets(conninfo)) RegisterSecret(secret);
}

}  // namespace posflow::pg
