// IPMI DCMI whole-server power through libfreeipmi: an IPMI 2.0 (lanplus) session to a BMC on the network,
// or the local BMC through the kernel's OpenIPMI driver. Both send the same raw DCMI Get Power Reading and
// decode it with dcmi_codec; this file only opens, keeps and re-opens the libfreeipmi context.
//
// Session rules (documented here because they are choices):
//  * Cipher suite: the one named, else 17 and, when the BMC refuses 17 (no matching suite, or the RMCP+
//    open-session error that BMCs without SHA-256 answer with, e.g. ipmi_sim's "internal IPMI error"), 3.
//    Timeouts and authentication failures do not fall back: they would fail the same way with 3.
//  * Workaround IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE: tried only when an open without
//    it fails with IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED (BMCs such as ipmi_sim answer "maximum
//    privilege 0" in the Open Session response). The flag only skips that check; the RAKP steps that follow
//    still authenticate, so e.g. a wrong password is reported as such (checked against ipmi_sim).
//  * The suite and flags that worked are kept for re-opens.
//  * A request that fails at the transport (session timeout, lost session) drops the context; the next
//    read() opens a new session, so a BMC that comes back is used again. A completion code error keeps it.
//  * Bounded time: lanplus session timeout = options.timeout, retransmission timeout = a fifth of it (at
//    most 1 s). libfreeipmi checks the session timeout (counted from the last packet received) when a
//    retransmission is due, so a request or an open gives up after the timeout plus at most one
//    retransmission interval. In-band, libfreeipmi's OpenIPMI driver has no timeout parameter (it waits up to
//    a fixed 60 s, IPMI_OPENIPMI_TIMEOUT in its source); the kernel's IPMI message handler times out a
//    request the BMC does not answer itself (completion code 0xC3 after its retries, seconds), which bounds
//    the wait in practice; `timeout` is checked but cannot be applied in-band.
#include "sources/server/ipmi/ipmi_dcmi_source.hpp"

#include <fmt/format.h>
#include <freeipmi/freeipmi.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "sources/server/ipmi/dcmi_codec.hpp"

namespace wattprint {

namespace {

constexpr const char* kFamily = "ipmi-dcmi";
constexpr const char* kLanName = "ipmi-dcmi.lan";
constexpr const char* kLocalName = "ipmi-dcmi.local";
constexpr const char* kCredentialRemedy =
    "check the BMC user and password (--ipmi-user, --ipmi-password-file)";
constexpr std::size_t kMaxUserLength = 16;      // IPMI 2.0 user name limit
constexpr std::size_t kMaxPasswordLength = 20;  // IPMI 2.0 password limit
constexpr int kDefaultPort = 623;

struct CtxDeleter {
  void operator()(ipmi_ctx* ctx) const noexcept { ipmi_ctx_destroy(ctx); }  // closes an open session first
};
using Ctx = std::unique_ptr<ipmi_ctx, CtxDeleter>;

/// Why a session could not be opened (or a test read failed): the status to report.
struct Failure {
  SensorStatus::State state = SensorStatus::State::Error;
  std::string reason;
  std::string remedy;
};

std::string seconds_text(Seconds s) { return fmt::format("{:g} s", s.count()); }

/// "HOST:PORT" for messages: the host as given, with the default port added when none is given.
std::string address_text(const std::string& host) {
  const auto colons = std::count(host.begin(), host.end(), ':');
  if (colons == 1 || (!host.empty() && host.front() == '[')) return host;
  if (colons > 1) return fmt::format("[{}]:{}", host, kDefaultPort);  // a bare IPv6 address
  return fmt::format("{}:{}", host, kDefaultPort);
}

bool is_supported_suite(int suite) noexcept {
  constexpr std::array<int, 12> kSuites = {0, 1, 2, 3, 6, 7, 8, 11, 12, 15, 16, 17};
  return std::find(kSuites.begin(), kSuites.end(), suite) != kSuites.end();
}

bool is_unprotected_suite(int suite) noexcept {
  return suite == 0 || suite == 1 || suite == 6 || suite == 15;
}

/// Errors with which a BMC says it has no such cipher suite (RMCP+ "no cipher suite match", or the
/// generic RMCP+ / IPMI error some BMCs answer the Open Session request with).
bool suite_refused(int errnum) noexcept {
  return errnum == IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE || errnum == IPMI_ERR_IPMI_ERROR ||
         errnum == IPMI_ERR_BAD_RMCPPLUS_STATUS_CODE || errnum == IPMI_ERR_AUTHENTICATION_TYPE_UNAVAILABLE;
}

std::optional<std::uint8_t> privilege_level(const std::string& name) noexcept {
  if (name == "user") return IPMI_PRIVILEGE_LEVEL_USER;
  if (name == "operator") return IPMI_PRIVILEGE_LEVEL_OPERATOR;
  if (name == "admin") return IPMI_PRIVILEGE_LEVEL_ADMIN;
  return std::nullopt;
}

/// A completion-code error at open: the remedy for the codes a user can act on.
std::string completion_code_remedy(std::uint8_t code) {
  if (code == 0xC1) {
    return "this BMC has no DCMI power reading: check that DCMI is enabled in the BMC settings, or use "
           "another server power source (Redfish, ACPI power meter)";
  }
  if (code == 0xD4) return "use --ipmi-privilege admin (DCMI commands usually need an admin session)";
  return "";
}

/// What the lanplus transport needs, validated.
struct LanParams {
  std::string host;     ///< as given to freeipmi ("HOST" or "HOST:PORT")
  std::string address;  ///< HOST:PORT, for messages
  std::string user;
  Secret password;
  std::string privilege_name;
  std::uint8_t privilege = IPMI_PRIVILEGE_LEVEL_ADMIN;
  std::optional<int> cipher_suite;
  Seconds timeout{5.0};
  unsigned session_timeout_ms = 5000;
  unsigned retransmission_timeout_ms = 1000;
};

class IpmiDcmiSource final : public ServerPowerSource {
 public:
  /// lanplus
  explicit IpmiDcmiSource(LanParams lan) : lan_(std::move(lan)), lanplus_(true) {}
  /// in-band
  IpmiDcmiSource(std::string device, Seconds timeout) : device_(std::move(device)), lanplus_(false) {
    lan_.timeout = timeout;
    origin_ = fmt::format("IPMI DCMI in-band through {}", device_);
  }

  [[nodiscard]] const std::string& family() const override { return family_; }
  [[nodiscard]] const std::string& origin() const override { return origin_; }

  ServerRead read() noexcept override {
    try {
      return read_once(nullptr);
    } catch (...) {  // allocation failure while formatting a message
      return ServerRead{std::nullopt, "IPMI DCMI read failed (out of memory)"};
    }
  }

  /// Opens the session and does one read; a failure is the status to report.
  std::optional<Failure> open_and_test() {
    if (auto failure = open()) return failure;
    std::uint8_t code = 0;
    ServerRead first = read_once(&code);
    if (first.reading) return std::nullopt;
    Failure failure;
    failure.reason = first.error;
    failure.remedy = completion_code_remedy(code);
    return failure;
  }

 private:
  [[nodiscard]] const std::string& where() const { return lanplus_ ? lan_.address : device_; }

  std::optional<Failure> open() { return lanplus_ ? open_lan() : open_local(); }

  std::optional<Failure> open_lan() {
    std::vector<std::uint8_t> suites;
    if (used_suite_) {
      suites.push_back(*used_suite_);
    } else if (lan_.cipher_suite) {
      suites.push_back(static_cast<std::uint8_t>(*lan_.cipher_suite));
    } else {
      suites = {17, 3};
    }
    std::vector<unsigned> flag_sets;
    if (used_suite_) {
      flag_sets.push_back(used_workaround_);
    } else {
      flag_sets = {IPMI_WORKAROUND_FLAGS_DEFAULT, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE};
    }
    int errnum = IPMI_ERR_SUCCESS;
    std::string message;
    std::uint8_t last_suite = suites.front();
    for (const std::uint8_t suite : suites) {
      last_suite = suite;
      for (const unsigned workaround : flag_sets) {
        Ctx ctx(ipmi_ctx_create());
        if (!ctx) return Failure{SensorStatus::State::Error, "cannot create a libfreeipmi context", ""};
        const int rc = ipmi_ctx_open_outofband_2_0(
            ctx.get(), lan_.host.c_str(), lan_.user.c_str(), lan_.password.reveal().c_str(), nullptr, 0,
            lan_.privilege, suite, lan_.session_timeout_ms, lan_.retransmission_timeout_ms, workaround,
            IPMI_FLAGS_DEFAULT);
        if (rc == 0) {
          ctx_ = std::move(ctx);
          used_suite_ = suite;
          used_workaround_ = workaround;
          origin_ = fmt::format("IPMI DCMI over lanplus to {} as {} (cipher suite {}{})", lan_.address,
                                lan_.privilege_name, suite,
                                is_unprotected_suite(suite) ? ", without authentication or integrity" : "");
          return std::nullopt;
        }
        errnum = ipmi_ctx_errnum(ctx.get());
        message = ipmi_ctx_errormsg(ctx.get());
        if (errnum != IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED) break;
      }
      const bool may_fall_back = !lan_.cipher_suite && !used_suite_ && suite == 17;
      if (!(may_fall_back && suite_refused(errnum))) break;
    }
    return lan_failure(errnum, message, last_suite);
  }

  [[nodiscard]] Failure lan_failure(int errnum, const std::string& message, std::uint8_t suite) const {
    Failure f;
    f.state = SensorStatus::State::Error;
    switch (errnum) {
      case IPMI_ERR_USERNAME_INVALID:
      case IPMI_ERR_PASSWORD_INVALID:
      case IPMI_ERR_K_G_INVALID:
      case IPMI_ERR_PASSWORD_VERIFICATION_TIMEOUT:
        f.reason = fmt::format("authentication failed for user '{}' at {} (wrong user or password?)",
                               lan_.user, lan_.address);
        f.remedy = kCredentialRemedy;
        break;
      case IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED:
      case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
        f.reason = fmt::format("user '{}' cannot get privilege {} at {} ({})", lan_.user, lan_.privilege_name,
                               lan_.address, message);
        f.remedy =
            "give the BMC user that privilege, or ask for a lower one with --ipmi-privilege (DCMI power "
            "reading usually needs admin)";
        break;
      case IPMI_ERR_CONNECTION_TIMEOUT:
      case IPMI_ERR_SESSION_TIMEOUT:
        f.reason = fmt::format("no answer from the BMC at {} within {} ({})", lan_.address,
                               seconds_text(lan_.timeout), message);
        f.remedy =
            "check the BMC address and port (--ipmi-host), that IPMI over LAN is enabled on the BMC, and "
            "that "
            "UDP to it is not blocked";
        break;
      case IPMI_ERR_HOSTNAME_INVALID:
        f.reason = fmt::format("invalid BMC host name '{}'", lan_.host);
        f.remedy = "give the BMC as HOST or HOST:PORT (--ipmi-host)";
        break;
      case IPMI_ERR_IPMI_2_0_UNAVAILABLE:
        f.reason = fmt::format("the BMC at {} does not support IPMI 2.0 (lanplus)", lan_.address);
        break;
      case IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
        f.reason = fmt::format("the BMC at {} does not offer cipher suite {}", lan_.address, suite);
        f.remedy = "choose another cipher suite (--ipmi-cipher-suite; 3 is the most widely supported)";
        break;
      default:
        f.reason = fmt::format("cannot open an IPMI 2.0 session to {} with cipher suite {}: {}", lan_.address,
                               suite, message);
        if (suite_refused(errnum)) {
          f.remedy = "the BMC may not offer this cipher suite: choose another (--ipmi-cipher-suite 3)";
        }
        break;
    }
    return f;
  }

  std::optional<Failure> open_local() {
    Ctx ctx(ipmi_ctx_create());
    if (!ctx) return Failure{SensorStatus::State::Error, "cannot create a libfreeipmi context", ""};
    if (ipmi_ctx_open_inband(ctx.get(), IPMI_DEVICE_OPENIPMI, 0, 0, 0, device_.c_str(),
                             IPMI_WORKAROUND_FLAGS_DEFAULT, IPMI_FLAGS_DEFAULT) != 0) {
      const int errnum = ipmi_ctx_errnum(ctx.get());
      Failure f;
      f.reason = fmt::format("cannot open {}: {}", device_, ipmi_ctx_errormsg(ctx.get()));
      if (errnum == IPMI_ERR_PERMISSION) {
        f.state = SensorStatus::State::Unreadable;
        f.remedy =
            "run wattprint as root, or ask the administrator for wattprintd, which reads the BMC for a group "
            "(see docs/permissions.md)";
      } else if (errnum == IPMI_ERR_DEVICE_NOT_FOUND) {
        f.state = SensorStatus::State::Absent;
        f.remedy = "modprobe ipmi_si ipmi_devintf";
      }
      return f;
    }
    ctx_ = std::move(ctx);
    return std::nullopt;
  }

  /// One Get Power Reading; re-opens first when the last request lost the session. `code` receives the
  /// completion code when the BMC answered one.
  ServerRead read_once(std::uint8_t* code) {
    ServerRead out;
    if (!ctx_) {
      if (auto failure = open()) {
        out.error = failure->reason;
        return out;
      }
    }
    const auto data = dcmi::power_reading_request();
    std::array<std::uint8_t, 1 + data.size()> request{};
    request[0] = dcmi::kCmdGetPowerReading;
    std::copy(data.begin(), data.end(), request.begin() + 1);
    std::array<std::uint8_t, 64> response{};
    const int n = ipmi_cmd_raw(ctx_.get(), 0, dcmi::kNetFnGroupExtension, request.data(),
                               static_cast<unsigned>(request.size()), response.data(),
                               static_cast<unsigned>(response.size()));
    if (n < 0) {
      const int errnum = ipmi_ctx_errnum(ctx_.get());
      const std::string message = ipmi_ctx_errormsg(ctx_.get());
      ctx_.reset();  // the next read opens a new session
      if (errnum == IPMI_ERR_SESSION_TIMEOUT || errnum == IPMI_ERR_CONNECTION_TIMEOUT ||
          errnum == IPMI_ERR_DRIVER_TIMEOUT) {
        out.error = fmt::format("no answer from the BMC at {} within {} ({}); reconnecting on the next read",
                                where(), seconds_text(lan_.timeout), message);
      } else {
        out.error = fmt::format("IPMI DCMI request to {} failed: {}; reconnecting on the next read", where(),
                                message);
      }
      return out;
    }
    const auto length = static_cast<std::size_t>(n);
    if (length < 1 || response[0] != dcmi::kCmdGetPowerReading) {
      out.error = fmt::format("unexpected IPMI response from {} (command byte missing or not 0x02)", where());
      return out;
    }
    const dcmi::DecodedResponse decoded =
        dcmi::decode_power_reading(std::span<const std::uint8_t>(response.data() + 1, length - 1));
    if (code != nullptr) *code = decoded.completion_code;
    if (!decoded.reading) {
      out.error = decoded.error;
      return out;
    }
    return dcmi::to_server_reading(*decoded.reading);
  }

  std::string family_ = kFamily;
  std::string origin_;
  LanParams lan_;
  std::string device_;
  bool lanplus_;
  Ctx ctx_;  ///< null when there is no session (before open, after a failed request)
  std::optional<std::uint8_t> used_suite_;
  unsigned used_workaround_ = IPMI_WORKAROUND_FLAGS_DEFAULT;
};

OpenedServerSource error_status(const char* name, std::string path, std::string reason, std::string remedy) {
  OpenedServerSource out;
  out.status.name = name;
  out.status.state = SensorStatus::State::Error;
  out.status.path = std::move(path);
  out.status.reason = std::move(reason);
  out.status.remedy = std::move(remedy);
  return out;
}

OpenedServerSource finish(const char* name, const std::string& path, std::unique_ptr<IpmiDcmiSource> source) {
  OpenedServerSource out;
  out.status.name = name;
  out.status.path = path;
  if (auto failure = source->open_and_test()) {
    out.status.state = failure->state;
    out.status.reason = std::move(failure->reason);
    out.status.remedy = std::move(failure->remedy);
    return out;
  }
  out.status.state = SensorStatus::State::Ok;
  out.source = std::move(source);
  return out;
}

bool valid_timeout(Seconds timeout) noexcept {
  return std::isfinite(timeout.count()) && timeout.count() > 0.0;
}

}  // namespace

OpenedServerSource open_ipmi_lan_source(const IpmiLanOptions& options) {
  const std::string address = address_text(options.host);
  if (options.host.empty()) {
    return error_status(kLanName, "", "no BMC host given", "name the BMC with --ipmi-host HOST[:PORT]");
  }
  const auto privilege = privilege_level(options.privilege);
  if (!privilege) {
    return error_status(
        kLanName, address,
        fmt::format("unknown IPMI privilege '{}' (accepted: user, operator, admin)", options.privilege),
        "use --ipmi-privilege user, operator or admin");
  }
  if (options.cipher_suite && !is_supported_suite(*options.cipher_suite)) {
    return error_status(kLanName, address,
                        fmt::format("unsupported IPMI cipher suite {} (accepted: 0-3, 6-8, 11, 12, 15-17)",
                                    *options.cipher_suite),
                        "use --ipmi-cipher-suite 17 or 3");
  }
  if (!valid_timeout(options.timeout)) {
    return error_status(kLanName, address, "the IPMI timeout must be a positive number of seconds", "");
  }
  if (options.user.size() > kMaxUserLength) {
    return error_status(
        kLanName, address,
        fmt::format("IPMI user name '{}' is longer than {} characters", options.user, kMaxUserLength),
        kCredentialRemedy);
  }
  if (options.password.reveal().size() > kMaxPasswordLength) {
    return error_status(kLanName, address,
                        fmt::format("the IPMI password is longer than {} characters (the IPMI 2.0 limit)",
                                    kMaxPasswordLength),
                        kCredentialRemedy);
  }
  LanParams lan;
  lan.host = options.host;
  lan.address = address;
  lan.user = options.user;
  lan.password = options.password;
  lan.privilege_name = options.privilege;
  lan.privilege = *privilege;
  lan.cipher_suite = options.cipher_suite;
  lan.timeout = options.timeout;
  const double ms = std::min(options.timeout.count() * 1000.0, 3'600'000.0);
  lan.session_timeout_ms = std::max(1U, static_cast<unsigned>(std::lround(ms)));
  lan.retransmission_timeout_ms = std::clamp(lan.session_timeout_ms / 5U, 1U, 1000U);
  return finish(kLanName, address, std::make_unique<IpmiDcmiSource>(std::move(lan)));
}

OpenedServerSource open_ipmi_local_source(const std::string& device, Seconds timeout) {
  if (!valid_timeout(timeout)) {
    return error_status(kLocalName, device, "the IPMI timeout must be a positive number of seconds", "");
  }
  struct stat st {};
  if (::stat(device.c_str(), &st) != 0) {
    const int err = errno;
    OpenedServerSource out;
    out.status.name = kLocalName;
    out.status.path = device;
    if (err == ENOENT || err == ENOTDIR) {
      out.status.state = SensorStatus::State::Absent;
      out.status.reason =
          fmt::format("no {} (no BMC, or the ipmi_si and ipmi_devintf modules are not loaded)", device);
      out.status.remedy = "modprobe ipmi_si ipmi_devintf";
    } else {
      out.status.state = SensorStatus::State::Unreadable;
      out.status.reason = fmt::format("cannot look at {}: {}", device, std::strerror(err));
      out.status.remedy = "run wattprint as root (see docs/permissions.md)";
    }
    return out;
  }
  if (!S_ISCHR(st.st_mode)) {
    return error_status(kLocalName, device,
                        fmt::format("{} is not a character device (not an IPMI device)", device),
                        "name the IPMI device node, usually /dev/ipmi0");
  }
  if (::access(device.c_str(), R_OK | W_OK) != 0) {
    OpenedServerSource out;
    out.status.name = kLocalName;
    out.status.path = device;
    out.status.state = SensorStatus::State::Unreadable;
    out.status.reason = fmt::format("no permission to open {} for reading and writing", device);
    out.status.remedy =
        "run wattprint as root, or ask the administrator for wattprintd, which reads the BMC for a group "
        "(see docs/permissions.md)";
    return out;
  }
  return finish(kLocalName, device, std::make_unique<IpmiDcmiSource>(device, timeout));
}

}  // namespace wattprint
