// TLS on kjq serve's listeners (server/tls_certificates.hpp, HttpServer::use_tls): certificates
// made at test time with OpenSSL, a real loopback socket, and libcurl verifying against the test
// CA, through rotations, half-written files and a mismatched key.
#include "server/tls_certificates.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "server/http_server.hpp"
#include "support/test_support.hpp"
#include "util/diagnostic.hpp"

namespace kjq::server {
namespace {

namespace fs = std::filesystem;

// A key and its certificate, PEM.
struct Pem {
  std::string cert, key;
};

struct KeyAndCert {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
  std::unique_ptr<X509, decltype(&X509_free)> cert{nullptr, X509_free};
};

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A P-256 key and a certificate for it named `cn`: self-signed CA when `issuer` is null, else a
// server certificate for 127.0.0.1 and localhost signed by the issuer.
KeyAndCert make_cert(const std::string& cn, const KeyAndCert* issuer, long serial) {
  KeyAndCert out;
  out.key.reset(EVP_EC_gen("P-256"));
  out.cert.reset(X509_new());
  X509* x = out.cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, out.key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer_cert = issuer ? issuer->cert.get() : x;
  X509_set_issuer_name(x, X509_get_subject_name(signer_cert));
  if (issuer) {
    add_extension(x, signer_cert, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(x, signer_cert, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    add_extension(x, signer_cert, NID_ext_key_usage, "serverAuth");
  } else {
    add_extension(x, signer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(x, signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  add_extension(x, signer_cert, NID_subject_key_identifier, "hash");
  X509_sign(x, issuer ? issuer->key.get() : out.key.get(), EVP_sha256());
  return out;
}

Pem pem_of(const KeyAndCert& kc) {
  auto text = [](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    write(bio.get());
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  };
  Pem p;
  p.cert = text([&](BIO* b) { PEM_write_bio_X509(b, kc.cert.get()); });
  p.key = text([&](BIO* b) { PEM_write_bio_PrivateKey(b, kc.key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
  return p;
}

// Replaces a file the way a Secret volume does: a new file renamed over the old one.
void replace_file(const fs::path& path, const std::string& content) {
  const fs::path next = path.string() + ".next";
  {
    std::ofstream out(next, std::ios::binary | std::ios::trunc);
    out << content;
  }
  fs::rename(next, path);
}

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body, subject, error;
};

// One GET on a new connection, verifying the server against `ca_file`; the subject of the
// certificate the server showed.
Reply get(int port, const fs::path& ca_file, const std::string& path = "/hello") {
  Reply r;
  CURL* curl = curl_easy_init();
  char error[CURL_ERROR_SIZE] = {};
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) {
        static_cast<std::string*>(out)->append(data, size * n);
        return size * n;
      });
  r.code = curl_easy_perform(curl);
  r.error = error;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_CERTINFO, &info) == CURLE_OK && info && info->num_of_certs > 0) {
    for (curl_slist* s = info->certinfo[0]; s; s = s->next) {
      const std::string line = s->data;
      if (line.rfind("Subject:", 0) == 0) r.subject = line.substr(8);
    }
  }
  curl_easy_cleanup(curl);
  return r;
}

class TlsListener : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = make_cert("kjq test CA", nullptr, 1);
    ca_file_ = dir_.write("ca.crt", pem_of(ca_).cert);
    cert_file_ = dir_.path() / "tls.crt";
    key_file_ = dir_.path() / "tls.key";
    install(leaf("first"));
    certs_ = std::make_shared<TlsCertificates>(cert_file_.string(), key_file_.string());
    server_.route("GET", "/hello", [](const http::Request&, http::Response& res) { res.body = "hello over TLS\n"; });
    server_.use_tls(certs_);
    port_ = server_.listen("127.0.0.1", 0);
  }
  void TearDown() override { server_.stop(); }

  Pem leaf(const std::string& cn) { return pem_of(make_cert(cn, &ca_, ++serial_)); }
  void install(const Pem& p) {
    replace_file(cert_file_, p.cert);
    replace_file(key_file_, p.key);
  }

  test::TempDir dir_;
  KeyAndCert ca_;
  fs::path ca_file_, cert_file_, key_file_;
  long serial_ = 100;
  std::shared_ptr<TlsCertificates> certs_;
  http::HttpServer server_;
  int port_ = 0;
};

TEST_F(TlsListener, AClientVerifyingTheCaGetsAnswersAndPlainHttpGetsNone) {
  const Reply r = get(port_, ca_file_);
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello over TLS\n");
  EXPECT_NE(r.subject.find("first"), std::string::npos) << r.subject;

  // A client that trusts another CA refuses the server.
  const auto other_ca = dir_.write("other-ca.crt", pem_of(make_cert("another CA", nullptr, 2)).cert);
  EXPECT_EQ(get(port_, other_ca).code, CURLE_PEER_FAILED_VERIFICATION);

  // Plain HTTP on the TLS port: no answer, the handshake fails and the connection is closed.
  CURL* curl = curl_easy_init();
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/hello";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  std::string ignored;
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ignored);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
  const CURLcode plain = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  EXPECT_NE(plain, CURLE_OK);
  EXPECT_NE(status, 200);
  EXPECT_GE(server_.stats().tls_handshake_failures, 1u);
}

TEST_F(TlsListener, ANewConnectionAfterARotationGetsTheNewCertificate) {
  ASSERT_NE(get(port_, ca_file_).subject.find("first"), std::string::npos);
  install(leaf("second"));
  const Reply r = get(port_, ca_file_);
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_NE(r.subject.find("second"), std::string::npos) << r.subject;
  EXPECT_EQ(certs_->stats().reloads, 1u);
  EXPECT_EQ(certs_->stats().refused, 0u);
}

TEST_F(TlsListener, AHalfWrittenOrMismatchedPairKeepsThePreviousCertificate) {
  const Pem second = leaf("second");
  // The certificate arrives before its key: the pair does not match.
  replace_file(cert_file_, second.cert);
  Reply r = get(port_, ca_file_);
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_NE(r.subject.find("first"), std::string::npos) << r.subject;
  EXPECT_EQ(certs_->stats().refused, 1u);
  // The key half written: still the previous pair.
  replace_file(key_file_, second.key.substr(0, second.key.size() / 2));
  r = get(port_, ca_file_);
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_NE(r.subject.find("first"), std::string::npos) << r.subject;
  EXPECT_EQ(certs_->stats().refused, 2u);
  // A file gone (the moment between two renames): still the previous pair.
  fs::remove(key_file_);
  r = get(port_, ca_file_);
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(certs_->stats().refused, 3u);
  // The rest of the key arrives: the new pair is in service.
  replace_file(key_file_, second.key);
  r = get(port_, ca_file_);
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_NE(r.subject.find("second"), std::string::npos) << r.subject;
  EXPECT_EQ(certs_->stats().reloads, 1u);
  // Looking again without a change loads nothing.
  EXPECT_EQ(get(port_, ca_file_).code, CURLE_OK);
  EXPECT_EQ(certs_->stats().reloads, 1u);
  EXPECT_EQ(certs_->stats().refused, 3u);
}

TEST(TlsCertificates, AnUnusablePairAtStartUpIsAnInputErrorNamingTheFile) {
  test::TempDir dir;
  const auto ca = make_cert("ca", nullptr, 1);
  const Pem one = pem_of(make_cert("one", &ca, 2));
  const Pem two = pem_of(make_cert("two", &ca, 3));
  const auto cert = dir.write("tls.crt", one.cert);
  const auto key = dir.write("tls.key", two.key);
  auto message = [](const std::string& c, const std::string& k) -> std::string {
    try {
      TlsCertificates certs(c, k);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message(cert, key).find("tls.key: the private key does not match the certificate in"), std::string::npos)
      << message(cert, key);
  EXPECT_NE(message((dir.path() / "missing.crt").string(), key).find("missing.crt"), std::string::npos);
  const auto junk = dir.write("junk.crt", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  EXPECT_NE(message(junk, key).find("junk.crt: not a PEM certificate"), std::string::npos) << message(junk, key);
  // The key itself never appears in a message.
  EXPECT_EQ(message(cert, key).find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace kjq::server
