#include "support/raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

namespace kjq::test {

using Clock = std::chrono::steady_clock;

RawClient::RawClient(int port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

RawClient::RawClient(RawClient&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), connected_(o.connected_), received_(std::move(o.received_)) {}

RawClient& RawClient::operator=(RawClient&& o) noexcept {
  std::swap(fd_, o.fd_);
  std::swap(connected_, o.connected_);
  std::swap(received_, o.received_);
  return *this;
}

bool RawClient::send(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawClient::read_until(const std::function<bool(const std::string&)>& done, std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (!done(received_)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return done(received_);
    received_.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

bool RawClient::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
    received_.append(buf, static_cast<std::size_t>(n));
  }
  return false;
}

std::vector<Answer> answers_in(const std::string& bytes) {
  std::vector<Answer> out;
  std::size_t pos = 0;
  while (true) {
    const auto end = bytes.find("\r\n\r\n", pos);
    if (end == std::string::npos) break;
    Answer a;
    a.head = bytes.substr(pos, end - pos);
    if (a.head.rfind("HTTP/1.1 ", 0) != 0) break;
    a.status = std::stoi(a.head.substr(9, 3));
    std::size_t length = 0;
    const auto cl = a.head.find("Content-Length: ");
    if (cl != std::string::npos) length = std::stoul(a.head.substr(cl + 16));
    if (bytes.size() < end + 4 + length) break;
    a.body = bytes.substr(end + 4, length);
    out.push_back(std::move(a));
    pos = end + 4 + length;
  }
  return out;
}

std::function<bool(const std::string&)> has_answers(std::size_t n) {
  return [n](const std::string& bytes) { return answers_in(bytes).size() >= n; };
}

Answer ask(int port, const std::string& request, std::chrono::milliseconds timeout) {
  RawClient c(port);
  if (!c.connected() || !c.send(request) || !c.read_until(has_answers(1), timeout)) return {};
  return answers_in(c.received()).front();
}

}  // namespace kjq::test
