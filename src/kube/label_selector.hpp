#pragma once
// A Kubernetes label selector (the `-l` / labelSelector syntax: `k=v`, `k==v`, `k!=v`, `k`, `!k`,
// `k in (a,b)`, `k notin (a,b)`, comma-separated, all must hold), parsed once and matched on the
// client. An informer that follows Jobs of two kinds needs it: a server-side selector cannot say
// "this OR that", so it lists the namespace and keeps what either selector matches.
#include <map>
#include <string>
#include <vector>

namespace kjq::kube {

class LabelSelector {
 public:
  // Throws kjq::InputError naming `what` (e.g. "--nautobot-job-selector") and the bad part.
  static LabelSelector parse(const std::string& text, const std::string& what);
  // The empty selector matches everything.
  bool matches(const std::map<std::string, std::string>& labels) const;
  bool empty() const { return requirements_.empty(); }
  // The selector as kube-apiserver takes it (normalised spacing).
  std::string text() const;

 private:
  enum class Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist };
  struct Requirement {
    std::string key;
    Op op = Op::Exists;
    std::vector<std::string> values;
  };
  std::vector<Requirement> requirements_;
};

}  // namespace kjq::kube
