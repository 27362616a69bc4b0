// Redfish source: discovery of a chassis power reading at open, then one (or one per power supply) GET per
// read() over a kept-alive HTTPS connection.
#include "sources/server/redfish/redfish_source.hpp"

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "platform/https_client.hpp"
#include "sources/server/redfish/redfish_power.hpp"

namespace wattprint {

namespace {

using nlohmann::json;
using redfish::Parsed;
using State = SensorStatus::State;

constexpr const char* kFamily = "redfish";
constexpr const char* kCertificateRemedy =
    "pass --redfish-ca FILE with the BMC's CA, or --insecure to skip verification";
constexpr const char* kTlsRemedy =
    "check that --redfish-ca names a readable PEM file and that the URL is the BMC's HTTPS port";
constexpr const char* kConnectRemedy =
    "check the host and port, that the BMC's Redfish service is enabled, and the network path to it";
constexpr const char* kTimeoutRemedy =
    "check the network path to the BMC; a busy BMC may need a longer timeout";
constexpr const char* kAuthRemedy =
    "check --redfish-user and --redfish-password-file; the account needs at least the ReadOnly role";
constexpr const char* kUrlRemedy =
    "give the service (https://HOST[:PORT]) or one chassis (https://HOST/redfish/v1/Chassis/ID)";

/// Which resource read() polls.
enum class Kind { EnvironmentMetrics, PowerSupplyMetrics, LegacyPower };

Parsed<double> parse_reading(Kind kind, const json& payload) {
  switch (kind) {
    case Kind::EnvironmentMetrics:
      return redfish::environment_metrics_power(payload);
    case Kind::PowerSupplyMetrics:
      return redfish::power_supply_input_power(payload);
    case Kind::LegacyPower:
      return redfish::legacy_power_consumed(payload);
  }
  return {std::nullopt, "unknown resource kind"};
}

/// A failed GET: what the status gets, and whether discovery must stop (the BMC cannot be talked to at
/// all) or may go on with another resource (this one is missing or broken).
struct FetchError {
  State state = State::Error;
  std::string reason;
  std::string remedy;
  bool fatal = false;

  /// One line for ServerRead::error: the reason and, when there is one, the remedy.
  [[nodiscard]] std::string line() const { return remedy.empty() ? reason : reason + ": " + remedy; }
};

struct Fetched {
  std::optional<json> payload;
  FetchError error;
};

/// GET `url` and parse it as a JSON object. Transport, TLS, authentication failures and redirects are fatal;
/// other HTTP errors and malformed payloads are not (another resource may still do).
Fetched fetch(HttpsClient& client, const std::string& url, std::optional<Seconds> timeout = std::nullopt) {
  Fetched out;
  HttpResult result = client.get(url, timeout);
  if (!result.response) {
    out.error.fatal = true;
    out.error.reason = result.error;
    switch (result.failure) {
      case HttpFailure::Certificate:
        out.error.reason = fmt::format("{} (certificate not trusted)", result.error);
        out.error.remedy = kCertificateRemedy;
        break;
      case HttpFailure::Tls:
        out.error.reason = fmt::format("{} (TLS failure)", result.error);
        out.error.remedy = kTlsRemedy;
        break;
      case HttpFailure::Connect:
        out.error.remedy = kConnectRemedy;
        break;
      case HttpFailure::Timeout:
        out.error.remedy = kTimeoutRemedy;
        break;
      case HttpFailure::TooLarge:
      case HttpFailure::Other:
      case HttpFailure::None:
        break;
    }
    return out;
  }
  const long status = result.response->status;
  if (status == 401 || status == 403) {
    out.error = {State::Unreadable,
                 fmt::format("GET {}: HTTP {}: authentication failed for user '{}' (wrong user or password?)",
                             url, status, client.options().user),
                 kAuthRemedy, true};
    return out;
  }
  if (status >= 300 && status < 400) {
    out.error = {State::Error,
                 fmt::format("GET {}: HTTP {}: redirected to '{}', not followed", url, status,
                             result.response->location),
                 "give the URL it redirects to", true};
    return out;
  }
  if (status != 200) {
    out.error.reason = fmt::format("GET {}: HTTP {}{}", url, status, status == 404 ? " (not found)" : "");
    return out;
  }
  Parsed<json> parsed = redfish::parse_payload(result.response->body);
  if (!parsed.ok()) {
    out.error.reason = fmt::format("GET {}: {}", url, parsed.reason);
    return out;
  }
  out.payload = std::move(parsed.value);
  return out;
}

/// The power reading found by discovery and polled by read().
class RedfishSource final : public ServerPowerSource {
 public:
  RedfishSource(std::unique_ptr<HttpsClient> client, Kind kind, std::vector<std::string> urls,
                std::string origin)
      : client_(std::move(client)), kind_(kind), urls_(std::move(urls)), origin_(std::move(origin)) {}

  [[nodiscard]] const std::string& family() const override { return family_; }
  [[nodiscard]] const std::string& origin() const override { return origin_; }

  /// One GET per URL (one, or one per power supply), all within the options' timeout together.
  ServerRead read() noexcept override {
    ServerRead out;
    try {
      const auto start = std::chrono::steady_clock::now();
      const Seconds budget = client_->options().timeout;
      double watts = 0.0;
      for (const std::string& url : urls_) {
        const Seconds left =
            budget - std::chrono::duration_cast<Seconds>(std::chrono::steady_clock::now() - start);
        if (left <= Seconds{0.0}) {
          out.error = fmt::format("GET {}: no time left within the {} s timeout", url, budget.count());
          return out;
        }
        Fetched fetched = fetch(*client_, url, left);
        if (!fetched.payload) {
          out.error = fetched.error.line();
          return out;
        }
        const Parsed<double> reading = parse_reading(kind_, *fetched.payload);
        if (!reading.ok()) {
          out.error = fmt::format("{}: {}", url, reading.reason);
          return out;
        }
        watts += *reading.value;
      }
      out.reading = ServerPowerReading{Watts{watts}, Seconds{0.0}};
    } catch (...) {  // std::bad_alloc
      out.reading.reset();
      out.error = "out of memory";
    }
    return out;
  }

 private:
  std::unique_ptr<HttpsClient> client_;
  Kind kind_;
  std::vector<std::string> urls_;
  std::string family_ = kFamily;
  std::string origin_;
};

/// Discovery over the chassis of one service, noting every resource tried.
class Discovery {
 public:
  Discovery(HttpsClient& client, std::string origin) : client_(client), origin_(std::move(origin)) {}

  /// The first chassis that yields a reading; nullopt with `fatal_` set, or with `tried_` filled.
  struct Found {
    Kind kind;
    std::vector<std::string> urls;
    std::string origin;
  };

  /// The chassis at `chassis_url`, in the discovery order.
  std::optional<Found> chassis(const std::string& chassis_url) {
    Fetched fetched = get(chassis_url);
    if (!fetched.payload) return note(chassis_url, fetched.error.reason);
    return chassis(chassis_url, *fetched.payload);
  }

  /// The chassis already fetched.
  std::optional<Found> chassis(const std::string& chassis_url, const json& chassis) {
    if (auto found = environment_metrics(chassis_url, chassis)) return found;
    if (fatal_) return std::nullopt;
    if (auto found = power_subsystem(chassis_url, chassis)) return found;
    if (fatal_) return std::nullopt;
    return legacy_power(chassis_url, chassis);
  }

  /// GET, keeping the first fatal error.
  Fetched get(const std::string& url) {
    Fetched fetched = fetch(client_, url);
    if (!fetched.payload && fetched.error.fatal && !fatal_) fatal_ = fetched.error;
    return fetched;
  }

  std::optional<std::string> resolve(const std::string& odata_id) const {
    return redfish::resolve_link(origin_, odata_id);
  }

  std::optional<FetchError> fatal_;
  std::vector<std::string> tried_;

 private:
  std::nullopt_t note(const std::string& where, const std::string& what) {
    tried_.push_back(fmt::format("{}: {}", where, what));
    return std::nullopt;
  }

  /// The linked resource `property` of `resource`, fetched; nullopt (noted) when absent or unusable.
  std::optional<std::pair<std::string, json>> follow(const std::string& where, const json& resource,
                                                     const char* property) {
    const std::optional<std::string> id = redfish::link(resource, property);
    if (!id) return note(where, fmt::format("no {} link", property));
    const std::optional<std::string> url = resolve(*id);
    if (!url)
      return note(where, fmt::format("{} link '{}' is not on {}, not followed", property, *id, origin_));
    Fetched fetched = get(*url);
    if (!fetched.payload) return note(where, fetched.error.reason);
    return std::make_pair(*url, std::move(*fetched.payload));
  }

  std::optional<Found> environment_metrics(const std::string& chassis_url, const json& chassis) {
    auto metrics = follow(chassis_url, chassis, "EnvironmentMetrics");
    if (!metrics) return std::nullopt;
    const Parsed<double> reading = redfish::environment_metrics_power(metrics->second);
    if (!reading.ok()) return note(metrics->first, reading.reason);
    return Found{Kind::EnvironmentMetrics,
                 {metrics->first},
                 fmt::format("Redfish {} PowerWatts.Reading", metrics->first)};
  }

  std::optional<Found> power_subsystem(const std::string& chassis_url, const json& chassis) {
    auto subsystem = follow(chassis_url, chassis, "PowerSubsystem");
    if (!subsystem) return std::nullopt;
    auto supplies = follow(subsystem->first, subsystem->second, "PowerSupplies");
    if (!supplies) return std::nullopt;
    const Parsed<std::vector<std::string>> members = redfish::collection_members(supplies->second);
    if (!members.ok()) return note(supplies->first, members.reason);
    std::vector<std::string> metrics_urls;
    for (const std::string& member : *members.value) {
      const std::optional<std::string> supply_url = resolve(member);
      if (!supply_url) return note(supplies->first, fmt::format("member '{}' is not on {}", member, origin_));
      Fetched supply = get(*supply_url);
      if (!supply.payload) return note(*supply_url, supply.error.reason);
      if (!redfish::power_supply_present(*supply.payload)) continue;
      auto metrics = follow(*supply_url, *supply.payload, "Metrics");
      if (!metrics) return std::nullopt;  // a present supply without input power: the sum would be short
      const Parsed<double> reading = redfish::power_supply_input_power(metrics->second);
      if (!reading.ok()) return note(metrics->first, reading.reason);
      metrics_urls.push_back(metrics->first);
    }
    if (metrics_urls.empty()) return note(supplies->first, "no power supply present");
    std::string origin =
        metrics_urls.size() == 1
            ? fmt::format("Redfish {} InputPowerWatts.Reading", metrics_urls.front())
            : fmt::format("Redfish {}/*/Metrics InputPowerWatts.Reading (sum over {} power supplies)",
                          supplies->first, metrics_urls.size());
    return Found{Kind::PowerSupplyMetrics, std::move(metrics_urls), std::move(origin)};
  }

  std::optional<Found> legacy_power(const std::string& chassis_url, const json& chassis) {
    auto power = follow(chassis_url, chassis, "Power");
    if (!power) return std::nullopt;
    const Parsed<double> reading = redfish::legacy_power_consumed(power->second);
    if (!reading.ok()) return note(power->first, reading.reason);
    return Found{Kind::LegacyPower,
                 {power->first},
                 fmt::format("Redfish {} PowerControl[0].PowerConsumedWatts", power->first)};
  }

  HttpsClient& client_;
  std::string origin_;
};

OpenedServerSource failed(OpenedServerSource opened, State state, std::string reason, std::string remedy) {
  opened.status.state = state;
  opened.status.reason = std::move(reason);
  opened.status.remedy = std::move(remedy);
  return opened;
}

}  // namespace

OpenedServerSource open_redfish_source(const RedfishOptions& options) {
  OpenedServerSource opened;
  opened.status.name = kFamily;
  opened.status.path = redfish::redact_url(options.url);
  try {
    const Parsed<redfish::RedfishUrl> url = redfish::parse_url(options.url);
    if (!url.ok()) return failed(std::move(opened), State::Error, url.reason, kUrlRemedy);
    if (url.value->scheme == "http" && !options.insecure)
      return failed(std::move(opened), State::Error,
                    "refusing http://: the Basic credentials would travel in clear text",
                    "use https://, or pass --insecure to allow it anyway");
    const redfish::UrlTarget target = redfish::url_target(url.value->path);
    if (target == redfish::UrlTarget::Other)
      return failed(std::move(opened), State::Error,
                    fmt::format("'{}' is neither a Redfish service root nor a chassis", url.value->path),
                    kUrlRemedy);

    HttpsClientOptions client_options;
    client_options.ca_file = options.ca_file;
    client_options.insecure = options.insecure;
    client_options.timeout = options.timeout;
    client_options.user = options.user;
    client_options.password = options.password;
    auto client = std::make_unique<HttpsClient>(std::move(client_options));
    Discovery discovery(*client, url.value->origin);

    // The URL given must answer: its failures are errors, not just one resource noted as tried.
    const std::string entry_url = target == redfish::UrlTarget::Chassis
                                      ? url.value->origin + url.value->path
                                      : url.value->origin + "/redfish/v1/Chassis";
    Fetched entry = discovery.get(entry_url);
    if (!entry.payload)
      return failed(std::move(opened), entry.error.state, entry.error.reason,
                    entry.error.remedy.empty() ? kUrlRemedy : entry.error.remedy);

    std::optional<Discovery::Found> found;
    if (target == redfish::UrlTarget::Chassis) {
      found = discovery.chassis(entry_url, *entry.payload);
    } else {
      const std::string& collection_url = entry_url;
      std::vector<std::string> chassis_urls;
      const Parsed<std::vector<std::string>> members = redfish::collection_members(*entry.payload);
      if (!members.ok())
        return failed(std::move(opened), State::Error, fmt::format("{}: {}", collection_url, members.reason),
                      kUrlRemedy);
      for (const std::string& member : *members.value)
        if (auto resolved = discovery.resolve(member)) chassis_urls.push_back(std::move(*resolved));
      if (chassis_urls.empty())
        return failed(std::move(opened), State::Absent, fmt::format("{}: no chassis", collection_url), "");
      for (const std::string& chassis_url : chassis_urls) {
        found = discovery.chassis(chassis_url);
        if (found || discovery.fatal_) break;
      }
    }
    if (discovery.fatal_) {
      const FetchError& error = *discovery.fatal_;
      return failed(std::move(opened), error.state, error.reason, error.remedy);
    }
    if (found) {
      opened.status.state = State::Ok;
      if (options.insecure) found->origin += " (TLS certificate not verified: --insecure)";
      opened.source = std::make_unique<RedfishSource>(std::move(client), found->kind, std::move(found->urls),
                                                      std::move(found->origin));
      return opened;
    }
    std::string tried;
    for (const std::string& line : discovery.tried_) tried += (tried.empty() ? "" : "; ") + line;
    return failed(
        std::move(opened), State::Absent, "no power reading found (tried " + tried + ")",
        "this BMC publishes no chassis input power over Redfish (EnvironmentMetrics, PowerSubsystem, "
        "Power); try IPMI DCMI instead");
  } catch (const std::exception& e) {
    return failed(std::move(opened), State::Error, fmt::format("unexpected failure: {}", e.what()), "");
  }
}

}  // namespace wattprint
