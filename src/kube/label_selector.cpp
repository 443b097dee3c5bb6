#include "kube/label_selector.hpp"

#include <algorithm>
#include <cctype>

#include "util/diagnostic.hpp"

namespace kjq::kube {

namespace {

InputError selector_error(const std::string& what, const std::string& message) {
  return InputError(Diagnostic{what, 0, 0, "", message});
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A label key: [prefix/]name, name ≤ 63 of [A-Za-z0-9._-] with alphanumerics at both ends, the
// prefix a DNS subdomain (≤ 253).
bool valid_name(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}
bool valid_key(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return valid_name(key, 63);
  const std::string prefix = key.substr(0, slash);
  return valid_name(prefix, 253) && prefix.find('_') == std::string::npos && valid_name(key.substr(slash + 1), 63);
}
bool valid_value(const std::string& v) { return v.empty() || valid_name(v, 63); }

// Splits on commas that are not inside parentheses.
std::vector<std::string> split_requirements(const std::string& text, const std::string& what) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) throw selector_error(what, "unbalanced ')' in \"" + text + "\"");
    if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (depth != 0) throw selector_error(what, "unbalanced '(' in \"" + text + "\"");
  out.push_back(cur);
  return out;
}

}  // namespace

LabelSelector LabelSelector::parse(const std::string& text, const std::string& what) {
  LabelSelector sel;
  if (trim(text).empty()) return sel;
  for (const std::string& raw : split_requirements(text, what)) {
    const std::string part = trim(raw);
    auto bad = [&](const std::string& why) {
      return selector_error(what, "\"" + part + "\" is not a label requirement (" + why + ")");
    };
    if (part.empty()) throw bad("empty");
    Requirement r;
    auto check_key = [&](const std::string& key) {
      if (!valid_key(key)) throw bad("invalid label key \"" + key + "\"");
      return key;
    };
    auto check_value = [&](const std::string& value) {
      if (!valid_value(value)) throw bad("invalid label value \"" + value + "\"");
      return value;
    };
    if (part[0] == '!') {
      r.key = check_key(trim(part.substr(1)));
      r.op = Op::DoesNotExist;
    } else if (const auto ne = part.find("!="); ne != std::string::npos) {
      r.key = check_key(trim(part.substr(0, ne)));
      r.op = Op::NotEquals;
      r.values = {check_value(trim(part.substr(ne + 2)))};
    } else if (const auto eq = part.find('='); eq != std::string::npos) {
      r.key = check_key(trim(part.substr(0, eq)));
      r.op = Op::Equals;
      const std::size_t skip = part.compare(eq, 2, "==") == 0 ? 2 : 1;
      r.values = {check_value(trim(part.substr(eq + skip)))};
    } else if (const auto open = part.find('('); open != std::string::npos) {
      if (part.back() != ')') throw bad("a set must end with ')'");
      const std::string head = trim(part.substr(0, open));
      const auto space = head.find_last_of(" \t");
      if (space == std::string::npos) throw bad("expected \"key in (...)\" or \"key notin (...)\"");
      const std::string op = head.substr(space + 1);
      if (op != "in" && op != "notin") throw bad("unknown operator \"" + op + "\"");
      r.key = check_key(trim(head.substr(0, space)));
      r.op = op == "in" ? Op::In : Op::NotIn;
      std::string inner = part.substr(open + 1, part.size() - open - 2);
      std::size_t start = 0;
      while (true) {
        const auto comma = inner.find(',', start);
        r.values.push_back(check_value(trim(inner.substr(start, comma - start))));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      r.key = check_key(part);
      r.op = Op::Exists;
    }
    sel.requirements_.push_back(std::move(r));
  }
  return sel;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& r : requirements_) {
    const auto it = labels.find(r.key);
    const bool has = it != labels.end();
    const bool in_values = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case Op::Equals:
      case Op::In:
        if (!in_values) return false;
        break;
      case Op::NotEquals:
      case Op::NotIn:
        if (in_values) return false;  // a missing label is "not equal", as the API server has it
        break;
      case Op::Exists:
        if (!has) return false;
        break;
      case Op::DoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

std::string LabelSelector::text() const {
  std::string out;
  for (const auto& r : requirements_) {
    if (!out.empty()) out += ",";
    switch (r.op) {
      case Op::Equals:
        out += r.key + "=" + r.values.front();
        break;
      case Op::NotEquals:
        out += r.key + "!=" + r.values.front();
        break;
      case Op::In:
      case Op::NotIn: {
        out += r.key + (r.op == Op::In ? " in (" : " notin (");
        for (std::size_t i = 0; i < r.values.size(); ++i) out += (i ? "," : "") + r.values[i];
        out += ")";
        break;
      }
      case Op::Exists:
        out += r.key;
        break;
      case Op::DoesNotExist:
        out += "!" + r.key;
        break;
    }
  }
  return out;
}

}  // namespace kjq::kube
