#pragma once
// The certificate and key of `kjq serve`'s TLS listeners (--tls-cert, --tls-key), re-read when
// they change. cert-manager (and any Secret volume) rotates them in place; a new connection after
// a change gets the new pair. A pair that does not load (a file half written, a key that does
// not match the certificate, a file gone) keeps the previous pair in service and is logged once
// per change with the file and the reason; the next change is tried again.
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace kjq::server {

class TlsCertificates {
 public:
  // Loads the pair. Throws kjq::InputError naming the flag, the file and the reason.
  TlsCertificates(std::string cert_file, std::string key_file);
  ~TlsCertificates();
  TlsCertificates(const TlsCertificates&) = delete;
  TlsCertificates& operator=(const TlsCertificates&) = delete;

  // The context for a new connection, after re-reading the files when they changed since the
  // last look (device, inode, size or modification time). Thread-safe; a few microseconds when
  // nothing changed.
  std::shared_ptr<boost::asio::ssl::context> current();

  struct Stats {
    std::uint64_t reloads = 0;  // changed pairs put into service
    std::uint64_t refused = 0;  // changed pairs that did not load (the previous one kept)
  };
  Stats stats() const;

 private:
  // What identifies one version of a file.
  struct Signature {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = -1;
    timespec modified{};
    bool operator==(const Signature& o) const;
  };
  static Signature signature_of(const std::string& path);

  std::string cert_file_, key_file_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  Signature cert_seen_, key_seen_;  // the versions last tried (loaded or refused)
  Stats stats_;
};

}  // namespace kjq::server
