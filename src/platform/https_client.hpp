// A small HTTPS GET client over libcurl for talking to a BMC: one connection kept alive per client,
// certificate verification on by default, HTTP Basic credentials never in a URL, no redirects, a cap on
// the response size and a bound on the time of each request.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "core/secret.hpp"
#include "core/units.hpp"

namespace wattprint {

struct HttpsClientOptions {
  /// PEM bundle to verify the server's certificate against; nullopt: the system's CA store.
  std::optional<std::string> ca_file;
  /// No certificate or host name verification at all (explicit opt-in only). Also allows http:// URLs.
  bool insecure = false;
  /// The longest one request may take, connection set-up included.
  Seconds timeout{5.0};
  /// HTTP Basic credentials, sent only when `user` is not empty.
  std::string user;
  Secret password;
  /// A larger response body fails the request (a BMC resource is a few KiB).
  std::size_t max_body_bytes = std::size_t{4} << 20U;
};

/// A response as received: any status code, 3xx included (redirects are never followed).
struct HttpResponse {
  long status = 0;  ///< the HTTP status code
  std::string body;
  std::string location;  ///< the Location header of a 3xx, else empty
};

/// Why a request got no response. Certificate: the server's certificate did not verify (untrusted issuer,
/// wrong host name, expired); Tls: any other TLS failure (handshake, unreadable CA file).
enum class HttpFailure { None, Connect, Timeout, Certificate, Tls, TooLarge, Other };

/// The outcome of one request: a response, or a failure kind and a one-line reason (libcurl's own words
/// with the URL; never a credential).
struct HttpResult {
  std::optional<HttpResponse> response;
  HttpFailure failure = HttpFailure::None;
  std::string error;
};

/// One client per remote service. Not thread-safe: one thread uses it at a time. Creating clients is
/// thread-safe (libcurl's global initialisation happens once).
class HttpsClient {
 public:
  explicit HttpsClient(HttpsClientOptions options);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;
  HttpsClient(HttpsClient&&) = delete;
  HttpsClient& operator=(HttpsClient&&) = delete;

  /// GET `url` (https://, or http:// when insecure), with "Accept: application/json". Blocks at most
  /// `timeout` when given (a caller's remaining time), else the options' timeout; never throws. A failed
  /// request leaves the client usable (the next one reconnects).
  HttpResult get(const std::string& url, std::optional<Seconds> timeout = std::nullopt) noexcept;

  [[nodiscard]] const HttpsClientOptions& options() const noexcept { return options_; }

 private:
  struct Handle;
  HttpsClientOptions options_;
  std::unique_ptr<Handle> handle_;  ///< null when libcurl could not make an easy handle
};

}  // namespace wattprint
