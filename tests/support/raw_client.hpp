#pragma once
// A plain TCP client for tests of HTTP servers: exactly the bytes a test writes, nothing more
// (slow headers, pipelining, oversized or chunked bodies, idle connections).
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kjq::test {

class RawClient {
 public:
  // Connects to 127.0.0.1:port. `receive_buffer` > 0 sets SO_RCVBUF first (a slow reader).
  explicit RawClient(int port, int receive_buffer = 0);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  RawClient(RawClient&& o) noexcept;
  RawClient& operator=(RawClient&& o) noexcept;

  bool connected() const { return connected_; }
  bool send(std::string_view data);
  // Reads until `done(received)` or the timeout; false when the peer closed first or time ran out.
  bool read_until(const std::function<bool(const std::string&)>& done, std::chrono::milliseconds timeout);
  // True when the server closed the connection within the timeout (data before the close is kept).
  bool closed_by_peer(std::chrono::milliseconds timeout);
  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string received_;
};

struct Answer {
  int status = 0;
  std::string head;
  std::string body;
};

// Splits a byte stream into the HTTP/1.1 answers it holds (Content-Length framing).
std::vector<Answer> answers_in(const std::string& bytes);
std::function<bool(const std::string&)> has_answers(std::size_t n);
// One request on a new connection; status 0 when no answer came within the timeout.
Answer ask(int port, const std::string& request, std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace kjq::test
