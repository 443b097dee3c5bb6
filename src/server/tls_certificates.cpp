#include "server/tls_certificates.hpp"

#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ssl/context.hpp>

#include "util/diagnostic.hpp"
#include "util/file_read.hpp"

namespace kjq::server {

namespace ssl = boost::asio::ssl;

namespace {

constexpr std::size_t kMaxPemBytes = 1024 * 1024;

// A server context holding the pair, or an exception whose message names the file and why.
std::shared_ptr<ssl::context> load_pair(const std::string& cert_file, const std::string& key_file) {
  const std::string cert = read_file_bounded(cert_file, {kMaxPemBytes, false});
  const std::string key = read_file_bounded(key_file, {kMaxPemBytes, false});
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 and 1.3 only; OpenSSL's defaults choose the ciphers.
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(cert), ec);
  if (ec) throw RuntimeError(cert_file + ": not a PEM certificate (chain): " + ec.message());
  // Parsed apart from its use, to tell a broken key from one that does not match. The password
  // callback refuses: an encrypted key must fail, not prompt on a terminal.
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(key.data(), static_cast<int>(key.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      bio ? PEM_read_bio_PrivateKey(
                bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr)
          : nullptr,
      EVP_PKEY_free);
  ERR_clear_error();
  if (!pkey) throw RuntimeError(key_file + ": not a PEM private key (or one protected by a password)");
  if (SSL_CTX_use_PrivateKey(ctx->native_handle(), pkey.get()) != 1 ||
      SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    throw RuntimeError(key_file + ": the private key does not match the certificate in " + cert_file);
  }
  return ctx;
}

}  // namespace

bool TlsCertificates::Signature::operator==(const Signature& o) const {
  return device == o.device && inode == o.inode && size == o.size && modified.tv_sec == o.modified.tv_sec &&
         modified.tv_nsec == o.modified.tv_nsec;
}

TlsCertificates::Signature TlsCertificates::signature_of(const std::string& path) {
  Signature s;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return s;  // gone: size -1, tried once until it is back
  s.device = st.st_dev;
  s.inode = st.st_ino;
  s.size = st.st_size;
  s.modified = st.st_mtim;
  return s;
}

TlsCertificates::TlsCertificates(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {
  cert_seen_ = signature_of(cert_file_);
  key_seen_ = signature_of(key_file_);
  try {
    context_ = load_pair(cert_file_, key_file_);
  } catch (const std::exception& e) {
    throw InputError(Diagnostic{"--tls-cert", 0, 0, "", std::string("cannot serve TLS: ") + e.what()});
  }
}

TlsCertificates::~TlsCertificates() = default;

std::shared_ptr<ssl::context> TlsCertificates::current() {
  std::lock_guard lock(mutex_);
  const Signature cert = signature_of(cert_file_);
  const Signature key = signature_of(key_file_);
  if (cert == cert_seen_ && key == key_seen_) return context_;
  cert_seen_ = cert;
  key_seen_ = key;
  try {
    context_ = load_pair(cert_file_, key_file_);
    ++stats_.reloads;
    spdlog::info("tls: {} and {} changed: new connections get the new certificate", cert_file_, key_file_);
  } catch (const std::exception& e) {
    ++stats_.refused;
    spdlog::warn("tls: {} or {} changed but cannot be used; the previous certificate stays in service: {}", cert_file_,
                 key_file_, e.what());
  }
  return context_;
}

TlsCertificates::Stats TlsCertificates::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace kjq::server
