#pragma once
// Every object the API created, in order, kept after the object itself is gone (a Job deleted by
// its TTL still shows here). Tests compare it with a client's own record: "each job was created
// exactly once" needs a witness that outlives the Job.
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kjq::emulator {

struct CreateRecord {
  std::string resource, ns, name, uid, time;  // time: RFC 3339 with microseconds (latency benchmarks)
};

class CreateLog {
 public:
  void add(CreateRecord r);
  // {"items": [{"resource", "namespace", "name", "uid", "time"}...]}, only `resource` when given.
  nlohmann::json to_json(const std::string& resource = "") const;
  void clear();

 private:
  mutable std::mutex mu_;
  std::vector<CreateRecord> records_;
};

}  // namespace kjq::emulator
