#include "cli/app.h"

int main(int argc, char** argv) { return posflow::cli::Main(argc, argv); }
