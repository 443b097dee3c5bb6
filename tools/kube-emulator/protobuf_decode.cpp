#include "protobuf_decode.hpp"

#include <cstdint>
#include <functional>

#include "api_status.hpp"

namespace kjq::emulator {

using nlohmann::json;

namespace {

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) throw bad_request("protobuf: truncated varint");
      uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw bad_request("protobuf: varint too long");
  }
  std::string_view bytes() {
    uint64_t n = varint();
    if (n > data_.size() - pos_) throw bad_request("protobuf: truncated field");
    auto v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  void skip(int wire_type) {
    switch (wire_type) {
      case 0:
        varint();
        break;
      case 1:
        advance(8);
        break;
      case 2:
        bytes();
        break;
      case 5:
        advance(4);
        break;
      default:
        throw bad_request("protobuf: unsupported wire type");
    }
  }

 private:
  void advance(std::size_t n) {
    if (n > data_.size() - pos_) throw bad_request("protobuf: truncated field");
    pos_ += n;
  }
  std::string_view data_;
  std::size_t pos_ = 0;
};

// Calls `on_field(number, reader-of-the-bytes)` for every length-delimited field; skips others.
void for_each_bytes_field(std::string_view msg, const std::function<void(int, std::string_view)>& on_field) {
  Reader r(msg);
  while (!r.done()) {
    uint64_t key = r.varint();
    int field = static_cast<int>(key >> 3);
    int wire = static_cast<int>(key & 7);
    if (wire == 2)
      on_field(field, r.bytes());
    else
      r.skip(wire);
  }
}

json string_fields(std::string_view msg, const std::vector<std::pair<int, const char*>>& names) {
  json out = json::object();
  for_each_bytes_field(msg, [&](int field, std::string_view v) {
    for (const auto& [n, name] : names)
      if (n == field) out[name] = std::string(v);
  });
  return out;
}

}  // namespace

json decode_protobuf_self_subject_access_review(const std::string& body) {
  static const std::string magic("k8s\0", 4);
  if (body.compare(0, magic.size(), magic) != 0) throw bad_request("protobuf: missing k8s envelope prefix");
  std::string_view rest(body);
  rest.remove_prefix(magic.size());
  json type_meta;
  std::string_view raw;
  for_each_bytes_field(rest, [&](int field, std::string_view v) {
    if (field == 1) type_meta = string_fields(v, {{1, "apiVersion"}, {2, "kind"}});
    if (field == 2) raw = v;
  });
  if (type_meta.value("kind", "") != "SelfSubjectAccessReview")
    throw ApiError(415, "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types include: application/json");
  json review = {{"apiVersion", type_meta.value("apiVersion", "authorization.k8s.io/v1")},
                 {"kind", "SelfSubjectAccessReview"},
                 {"metadata", json::object()},
                 {"spec", json::object()}};
  for_each_bytes_field(raw, [&](int field, std::string_view spec) {
    if (field != 2) return;
    for_each_bytes_field(spec, [&](int f, std::string_view attrs) {
      if (f == 1)
        review["spec"]["resourceAttributes"] = string_fields(attrs, {{1, "namespace"},
                                                                     {2, "verb"},
                                                                     {3, "group"},
                                                                     {4, "version"},
                                                                     {5, "resource"},
                                                                     {6, "subresource"},
                                                                     {7, "name"}});
      if (f == 2) review["spec"]["nonResourceAttributes"] = string_fields(attrs, {{1, "path"}, {2, "verb"}});
    });
  });
  return review;
}

}  // namespace kjq::emulator
