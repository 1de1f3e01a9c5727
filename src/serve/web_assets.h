#pragma once

// The dashboard's files (web/: the page, its script and style, the vendored chart library and
// its licence), compiled into the binary by cmake/EmbedWeb.cmake, so that `posflow serve` needs
// no files at run time and works offline. Sorted by path.

#include <string_view>
#include <vector>

namespace posflow::serve {

struct WebAsset {
  std::string_view path;          // relative to web/: "index.html", "vendor/chart.umd.js"
  std::string_view content_type;  // from the file's extension: "text/javascript; charset=utf-8"
  std::string_view etag;          // "\"<the first 20 hex digits of the file's SHA-256>\""
  std::string_view bytes;         // the file as it is
};

const std::vector<WebAsset>& WebAssets();

// The asset at `path` (relative to web/), or nullptr.
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace posflow::serve
