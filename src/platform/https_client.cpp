// HTTPS GET over one reused libcurl easy handle: options set once, per-request state reset on each get().
#include "platform/https_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>

namespace wattprint {

namespace {

/// curl_global_init exactly once per process, before the first easy handle (a function-local static is
/// initialised thread-safely). Never cleaned up: other threads may still hold handles at exit.
bool curl_ready() noexcept {
  static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ready;
}

/// True when the URL's authority carries "user[:password]@": such URLs are refused, the credentials
/// would end up in logs and error messages.
bool has_userinfo(std::string_view url) noexcept {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string_view rest = url.substr(scheme_end + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  return authority.find('@') != std::string_view::npos;
}

/// Whole milliseconds for libcurl's timeouts: at least 1 (0 would mean "no timeout").
long timeout_ms(Seconds timeout) noexcept {
  const double ms = std::ceil(timeout.count() * 1000.0);
  if (!(ms >= 1.0)) return 1;
  if (ms > 24.0 * 3600.0 * 1000.0) return 24L * 3600L * 1000L;
  return static_cast<long>(ms);
}

HttpFailure classify(CURLcode code) noexcept {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      return HttpFailure::Connect;
    case CURLE_OPERATION_TIMEDOUT:
      return HttpFailure::Timeout;
    case CURLE_PEER_FAILED_VERIFICATION:
      return HttpFailure::Certificate;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return HttpFailure::Tls;
    default:
      return HttpFailure::Other;
  }
}

/// One line: newlines and trailing blanks of libcurl's message removed.
std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

struct HttpsClient::Handle {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::string body;
  std::size_t max_body = 0;
  bool too_large = false;

  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&&) = delete;
  Handle& operator=(Handle&&) = delete;
  ~Handle() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }

  static std::size_t write(char* data, std::size_t size, std::size_t count, void* user) noexcept {
    auto* self = static_cast<Handle*>(user);
    const std::size_t bytes = size * count;
    if (self->body.size() + bytes > self->max_body) {
      self->too_large = true;
      return 0;  // libcurl stops the transfer with CURLE_WRITE_ERROR
    }
    try {
      self->body.append(data, bytes);
    } catch (...) {
      return 0;
    }
    return bytes;
  }
};

HttpsClient::HttpsClient(HttpsClientOptions options) : options_(std::move(options)) {
  if (!curl_ready()) return;
  auto handle = std::make_unique<Handle>();
  handle->easy = curl_easy_init();
  if (handle->easy == nullptr) return;
  handle->max_body = options_.max_body_bytes;
  CURL* easy = handle->easy;
  bool ok = true;
  const auto set = [&ok](CURLcode code) { ok = ok && code == CURLE_OK; };
  set(curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L));  // threads: no SIGALRM for resolver timeouts
  set(curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, handle->error_buffer));
  set(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Handle::write));
  set(curl_easy_setopt(easy, CURLOPT_WRITEDATA, handle.get()));
  set(curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L));
  set(curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, options_.insecure ? "http,https" : "https"));
  set(curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_body_bytes)));
  set(curl_easy_setopt(easy, CURLOPT_USERAGENT, "wattprint"));
  set(curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L));
  set(curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, options_.insecure ? 0L : 1L));
  set(curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, options_.insecure ? 0L : 2L));
  if (options_.ca_file) set(curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file->c_str()));
  if (!options_.user.empty()) {
    // libcurl copies both strings; they go out only in the Authorization header.
    set(curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC)));
    set(curl_easy_setopt(easy, CURLOPT_USERNAME, options_.user.c_str()));
    set(curl_easy_setopt(easy, CURLOPT_PASSWORD, options_.password.reveal().c_str()));
  }
  handle->headers = curl_slist_append(handle->headers, "Accept: application/json");
  if (handle->headers != nullptr) handle->headers = curl_slist_append(handle->headers, "OData-Version: 4.0");
  if (handle->headers == nullptr) return;
  set(curl_easy_setopt(easy, CURLOPT_HTTPHEADER, handle->headers));
  if (ok) handle_ = std::move(handle);
}

HttpsClient::~HttpsClient() = default;

HttpResult HttpsClient::get(const std::string& url, std::optional<Seconds> timeout) noexcept {
  HttpResult result;
  try {
    if (handle_ == nullptr) {
      result.failure = HttpFailure::Other;
      result.error = "GET " + url + ": libcurl could not be initialised";
      return result;
    }
    if (has_userinfo(url)) {
      result.failure = HttpFailure::Other;
      result.error = "refusing a URL with credentials in it";
      return result;
    }
    Handle& h = *handle_;
    h.body.clear();
    h.too_large = false;
    h.error_buffer[0] = '\0';
    const long ms = timeout_ms(timeout.value_or(options_.timeout));
    CURLcode code = curl_easy_setopt(h.easy, CURLOPT_URL, url.c_str());
    if (code == CURLE_OK) code = curl_easy_setopt(h.easy, CURLOPT_TIMEOUT_MS, ms);
    if (code == CURLE_OK) code = curl_easy_setopt(h.easy, CURLOPT_CONNECTTIMEOUT_MS, ms);
    if (code == CURLE_OK) code = curl_easy_perform(h.easy);
    if (code != CURLE_OK) {
      result.failure =
          h.too_large || code == CURLE_FILESIZE_EXCEEDED ? HttpFailure::TooLarge : classify(code);
      std::string detail = h.error_buffer[0] != '\0' ? std::string(h.error_buffer) : curl_easy_strerror(code);
      if (result.failure == HttpFailure::TooLarge)
        detail = "response larger than " + std::to_string(options_.max_body_bytes) + " bytes";
      result.error = "GET " + url + ": " + one_line(std::move(detail));
      h.body.clear();
      return result;
    }
    HttpResponse response;
    curl_easy_getinfo(h.easy, CURLINFO_RESPONSE_CODE, &response.status);
    if (response.status >= 300 && response.status < 400) {
      char* location = nullptr;
      if (curl_easy_getinfo(h.easy, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location != nullptr)
        response.location = location;
    }
    response.body = std::move(h.body);
    h.body.clear();
    result.response = std::move(response);
  } catch (...) {  // std::bad_alloc only
    result.response.reset();
    result.failure = HttpFailure::Other;
    result.error = "GET: out of memory";
  }
  return result;
}

}  // namespace wattprint
