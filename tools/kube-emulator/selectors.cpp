#include "selectors.hpp"

#include <algorithm>
#include <optional>
#include <string_view>

#include "api_status.hpp"

namespace kjq::emulator {

using nlohmann::json;

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Split on commas that are not inside parentheses.
std::vector<std::string> split_terms(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') depth++;
    if (c == ')') depth--;
    if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty() || !out.empty()) out.push_back(trim(cur));
  return out;
}

std::vector<std::string> parse_value_set(const std::string& text, const std::string& whole) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    throw bad_request("unable to parse requirement: found '" + whole + "', expected: '('");
  std::vector<std::string> values;
  std::string inner = text.substr(1, text.size() - 2);
  size_t start = 0;
  while (true) {
    size_t comma = inner.find(',', start);
    values.push_back(trim(inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return values;
}

const json* label_lookup(const json& labels, const std::string& key) {
  if (!labels.is_object()) return nullptr;
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return nullptr;
  return &*it;
}

}  // namespace

LabelSelector LabelSelector::parse(const std::string& text) {
  LabelSelector sel;
  if (trim(text).empty()) return sel;
  for (const auto& term : split_terms(text)) {
    if (term.empty()) throw bad_request("unable to parse requirement: found '', expected: identifier");
    Requirement r;
    if (term[0] == '!') {
      r.key = trim(term.substr(1));
      r.op = Op::DoesNotExist;
    } else if (auto p = term.find("!="); p != std::string::npos) {
      r.key = trim(term.substr(0, p));
      r.op = Op::NotEquals;
      r.values = {trim(term.substr(p + 2))};
    } else if (auto p2 = term.find("=="); p2 != std::string::npos) {
      r.key = trim(term.substr(0, p2));
      r.op = Op::Equals;
      r.values = {trim(term.substr(p2 + 2))};
    } else if (auto p3 = term.find('='); p3 != std::string::npos) {
      r.key = trim(term.substr(0, p3));
      r.op = Op::Equals;
      r.values = {trim(term.substr(p3 + 1))};
    } else if (auto p4 = term.find(" notin "); p4 != std::string::npos) {
      r.key = trim(term.substr(0, p4));
      r.op = Op::NotIn;
      r.values = parse_value_set(trim(term.substr(p4 + 7)), term);
    } else if (auto p5 = term.find(" in "); p5 != std::string::npos) {
      r.key = trim(term.substr(0, p5));
      r.op = Op::In;
      r.values = parse_value_set(trim(term.substr(p5 + 4)), term);
    } else {
      r.key = term;
      r.op = Op::Exists;
    }
    if (r.key.empty() || r.key.find_first_of(" ()!=") != std::string::npos)
      throw bad_request("unable to parse requirement: invalid label key \"" + r.key + "\"");
    sel.requirements_.push_back(std::move(r));
  }
  return sel;
}

LabelSelector LabelSelector::from_object(const json& selector) {
  LabelSelector sel;
  if (!selector.is_object()) return sel;
  if (auto ml = selector.find("matchLabels"); ml != selector.end() && ml->is_object())
    for (auto it = ml->begin(); it != ml->end(); ++it)
      sel.requirements_.push_back({it.key(), Op::Equals, {it->is_string() ? it->get<std::string>() : it->dump()}});
  if (auto me = selector.find("matchExpressions"); me != selector.end() && me->is_array())
    for (const auto& e : *me) {
      Requirement r{e.value("key", ""), Op::Exists, {}};
      std::string op = e.value("operator", "");
      if (op == "In")
        r.op = Op::In;
      else if (op == "NotIn")
        r.op = Op::NotIn;
      else if (op == "DoesNotExist")
        r.op = Op::DoesNotExist;
      if (auto v = e.find("values"); v != e.end() && v->is_array())
        for (const auto& x : *v) r.values.push_back(x.is_string() ? x.get<std::string>() : x.dump());
      sel.requirements_.push_back(std::move(r));
    }
  return sel;
}

template <typename Lookup>
bool LabelSelector::matches_with(const Lookup& lookup) const {
  for (const auto& r : requirements_) {
    const std::optional<std::string_view> v = lookup(r.key);
    switch (r.op) {
      case Op::Equals:
        if (!v || *v != r.values[0]) return false;
        break;
      case Op::NotEquals:
        if (v && *v == r.values[0]) return false;
        break;
      case Op::In:
        if (!v || std::find(r.values.begin(), r.values.end(), *v) == r.values.end()) return false;
        break;
      case Op::NotIn:
        if (v && std::find(r.values.begin(), r.values.end(), *v) != r.values.end()) return false;
        break;
      case Op::Exists:
        if (!v) return false;
        break;
      case Op::DoesNotExist:
        if (v) return false;
        break;
    }
  }
  return true;
}

bool LabelSelector::matches(const json& labels) const {
  return matches_with([&](const std::string& key) -> std::optional<std::string_view> {
    const json* v = label_lookup(labels, key);
    if (!v) return std::nullopt;
    return std::string_view(v->get_ref<const std::string&>());
  });
}

bool LabelSelector::matches(const Labels& labels) const {
  return matches_with([&](const std::string& key) { return labels.find(key); });
}

FieldSelector FieldSelector::parse(const std::string& text) {
  FieldSelector sel;
  if (trim(text).empty()) return sel;
  for (const auto& term : split_terms(text)) {
    Requirement r;
    if (auto p = term.find("!="); p != std::string::npos) {
      r = {trim(term.substr(0, p)), true, trim(term.substr(p + 2))};
    } else if (auto p2 = term.find("=="); p2 != std::string::npos) {
      r = {trim(term.substr(0, p2)), false, trim(term.substr(p2 + 2))};
    } else if (auto p3 = term.find('='); p3 != std::string::npos) {
      r = {trim(term.substr(0, p3)), false, trim(term.substr(p3 + 1))};
    } else {
      throw bad_request("invalid selector: '" + text + "'; can't understand '" + term + "'");
    }
    if (r.path.empty()) throw bad_request("invalid selector: '" + text + "'");
    sel.requirements_.push_back(std::move(r));
  }
  return sel;
}

bool FieldSelector::matches(const json& object) const {
  for (const auto& r : requirements_) {
    bool equal = field_value(object, r.path) == r.value;
    if (equal == r.negate) return false;
  }
  return true;
}

bool FieldSelector::only_name_and_namespace() const {
  for (const auto& r : requirements_)
    if (r.path != "metadata.name" && r.path != "metadata.namespace") return false;
  return true;
}

bool FieldSelector::may_match_text(const std::string& text) const {
  for (const auto& r : requirements_) {
    if (r.negate || r.value.empty()) continue;
    // Characters JSON would escape could appear differently in the text: no shortcut for them.
    bool plain = true;
    for (char c : r.value) plain = plain && c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20;
    if (plain && text.find(r.value) == std::string::npos) return false;
  }
  return true;
}

std::optional<std::string> FieldSelector::required_value(const std::string& path) const {
  for (const auto& r : requirements_)
    if (!r.negate && r.path == path) return r.value;
  return std::nullopt;
}

std::string field_value(const json& object, const std::string& dotted_path) {
  const json* cur = &object;
  size_t start = 0;
  while (true) {
    size_t dot = dotted_path.find('.', start);
    std::string part = dotted_path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) return "";
    auto it = cur->find(part);
    if (it == cur->end()) return "";
    cur = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

}  // namespace kjq::emulator
