#pragma once
// Base64 (RFC 4648), as the Go programs kjq mirrors read and write it: kubeconfig's *-data fields
// and YAML's !!binary use the standard alphabet with padding (Go's StdEncoding, which skips CR
// and LF); the API server's continue tokens use the URL alphabet without padding.
#include <optional>
#include <string>
#include <string_view>

namespace kjq {

enum class Base64 { Standard, UrlUnpadded };

std::string base64_encode(std::string_view bytes, Base64 form = Base64::Standard);
// nullopt when `text` is not valid in that form (a foreign character, a wrong length, padding
// where there should be none or in the middle). CR and LF are skipped in either form.
std::optional<std::string> base64_decode(std::string_view text, Base64 form = Base64::Standard);

}  // namespace kjq
