// The Redfish source against a real local HTTPS Redfish service (tests/fakes/redfish_server.py): discovery of
// each schema variant, certificate verification, authentication, timeouts, broken payloads, refused URLs, and
// recovery after a failed read. No status, reason, remedy, origin or read error may contain the password.
#include "sources/server/redfish/redfish_source.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "fakes/redfish_server.hpp"
#include "platform/https_client.hpp"

namespace wattprint {
namespace {

using testing::RedfishServer;
using State = SensorStatus::State;

#define REQUIRE_SERVER(server)                                         \
  do {                                                                 \
    if (auto why = RedfishServer::unavailable()) GTEST_SKIP() << *why; \
    ASSERT_TRUE((server).started()) << (server).error();               \
  } while (false)

RedfishOptions options_for(const RedfishServer& server) {
  RedfishOptions options;
  options.url = server.url();
  options.user = server.user();
  options.password = Secret(server.password());
  options.ca_file = server.ca_file();
  options.timeout = Seconds{5.0};
  return options;
}

RedfishServer::Options variant(const char* name, double watts) {
  RedfishServer::Options options;
  options.variant = name;
  options.power_watts = watts;
  return options;
}

/// Nothing the user or a report can see holds the password.
void expect_no_password(const OpenedServerSource& opened, const std::string& password) {
  EXPECT_EQ(opened.status.reason.find(password), std::string::npos) << opened.status.reason;
  EXPECT_EQ(opened.status.remedy.find(password), std::string::npos) << opened.status.remedy;
  EXPECT_EQ(opened.status.path.find(password), std::string::npos) << opened.status.path;
  if (opened.source) {
    EXPECT_EQ(opened.source->origin().find(password), std::string::npos);
  }
}

double read_watts(ServerPowerSource& source) {
  const ServerRead read = source.read();
  EXPECT_TRUE(read.reading.has_value()) << read.error;
  EXPECT_TRUE(read.error.empty()) << read.error;
  return read.reading ? read.reading->power.value : -1.0;
}

std::string path_of(const std::string& request) {  // "GET /path 51234" -> "/path"
  const auto first = request.find(' ');
  return request.substr(first + 1, request.rfind(' ') - first - 1);
}

std::string port_of(const std::string& request) { return request.substr(request.rfind(' ') + 1); }

TEST(RedfishSource, LegacyPowerControlReadsAndFollowsChanges) {
  RedfishServer server(variant("legacy", 344.0));
  REQUIRE_SERVER(server);
  const OpenedServerSource opened = open_redfish_source(options_for(server));
  ASSERT_EQ(opened.status.state, State::Ok) << opened.status.reason;
  ASSERT_NE(opened.source, nullptr);
  EXPECT_EQ(opened.status.name, "redfish");
  EXPECT_EQ(opened.status.path, server.url());
  EXPECT_EQ(opened.source->family(), "redfish");
  EXPECT_EQ(opened.source->origin(),
            "Redfish " + server.chassis_url() + "/Power PowerControl[0].PowerConsumedWatts");
  expect_no_password(opened, server.password());

  EXPECT_DOUBLE_EQ(read_watts(*opened.source), 344.0);
  server.set_power_watts(512.5);
  server.clear_requests();
  const ServerRead read = opened.source->read();
  ASSERT_TRUE(read.reading) << read.error;
  EXPECT_DOUBLE_EQ(read.reading->power.value, 512.5);
  EXPECT_DOUBLE_EQ(read.reading->window.count(), 0.0);
  EXPECT_DOUBLE_EQ(read_watts(*opened.source), 512.5);

  // read() polls the one resource found, over one kept-alive connection.
  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(path_of(requests[0]), "/redfish/v1/Chassis/1U/Power");
  EXPECT_EQ(path_of(requests[1]), "/redfish/v1/Chassis/1U/Power");
  EXPECT_EQ(port_of(requests[0]), port_of(requests[1]));
}

TEST(RedfishSource, EnvironmentMetricsComeFirst) {
  RedfishServer server(variant("environment", 374.0));
  REQUIRE_SERVER(server);
  const OpenedServerSource opened = open_redfish_source(options_for(server));
  ASSERT_EQ(opened.status.state, State::Ok) << opened.status.reason;
  EXPECT_EQ(opened.source->origin(),
            "Redfish " + server.chassis_url() + "/EnvironmentMetrics PowerWatts.Reading");
  EXPECT_DOUBLE_EQ(read_watts(*opened.source), 374.0);
  server.set_power_watts(401.25);
  server.clear_requests();
  EXPECT_DOUBLE_EQ(read_watts(*opened.source), 401.25);
  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(path_of(requests[0]), "/redfish/v1/Chassis/1U/EnvironmentMetrics");
}

TEST(RedfishSource, PowerSubsystemSupplyMetricsAreAdded) {
  RedfishServer server(variant("power-subsystem", 344.0));
  REQUIRE_SERVER(server);
  const OpenedServerSource opened = open_redfish_source(options_for(server));
  ASSERT_EQ(opened.status.state, State::Ok) << opened.status.reason;
  EXPECT_EQ(opened.source->origin(),
            "Redfish " + server.chassis_url() +
                "/PowerSubsystem/PowerSupplies/*/Metrics InputPowerWatts.Reading (sum "
                "over 2 power supplies)");
  EXPECT_NEAR(read_watts(*opened.source), 344.0, 1e-9);
  server.set_power_watts(1234.5);
  server.clear_requests();
  EXPECT_NEAR(read_watts(*opened.source), 1234.5, 1e-9);
  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 2U);  // the two present supplies; the empty bay is not polled
  EXPECT_EQ(path_of(requests[0]), "/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/Bay1/Metrics");
  EXPECT_EQ(path_of(requests[1]), "/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/Bay2/Metrics");
}

TEST(RedfishSource, ChassisUrlGivenDirectly) {
  RedfishServer server(variant("legacy", 300.0));
  REQUIRE_SERVER(server);
  RedfishOptions options = options_for(server);
  options.url = server.chassis_url() + "/";
  const OpenedServerSource opened = open_redfish_source(options);
  ASSERT_EQ(opened.status.state, State::Ok) << opened.status.reason;
  EXPECT_EQ(opened.status.path, options.url);
  EXPECT_DOUBLE_EQ(read_watts(*opened.source), 300.0);
  for (const std::string& request : server.requests()) EXPECT_NE(path_of(request), "/redfish/v1/Chassis");
}

TEST(RedfishSource, UnknownChassisIsNotFound) {
  RedfishServer server;
  REQUIRE_SERVER(server);
  RedfishOptions options = options_for(server);
  options.url = server.url() + "/redfish/v1/Chassis/9Z";
  const OpenedServerSource opened = open_redfish_source(options);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_NE(opened.status.reason.find("/redfish/v1/Chassis/9Z: HTTP 404 (not found)"), std::string::npos)
      << opened.status.reason;
  EXPECT_NE(opened.status.remedy.find("https://HOST/redfish/v1/Chassis/ID"), std::string::npos);
}

TEST(RedfishSource, NoPowerReadingSaysWhatWasTried) {
  RedfishServer server(variant("none", 344.0));
  REQUIRE_SERVER(server);
  const OpenedServerSource opened = open_redfish_source(options_for(server));
  EXPECT_EQ(opened.status.state, State::Absent);
  EXPECT_EQ(opened.source, nullptr);
  const std::string& reason = opened.status.reason;
  EXPECT_NE(reason.find("no power reading found"), std::string::npos) << reason;
  EXPECT_NE(reason.find("no PowerWatts"), std::string::npos) << reason;
  EXPECT_NE(reason.find("no PowerSubsystem link"), std::string::npos) << reason;
  EXPECT_NE(reason.find("PowerControl[0].PowerConsumedWatts is null"), std::string::npos) << reason;
  EXPECT_EQ(reason.find('\n'), std::string::npos);
  expect_no_password(opened, server.password());
}

TEST(RedfishSource, UntrustedCertificateIsRefusedWithTheRemedy) {
  RedfishServer server;
  REQUIRE_SERVER(server);
  RedfishOptions options = options_for(server);
  options.ca_file.reset();  // the system store does not know the throwaway certificate
  const OpenedServerSource opened = open_redfish_source(options);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_EQ(opened.source, nullptr);
  EXPECT_NE(opened.status.reason.find("certificate"), std::string::npos) << opened.status.reason;
  EXPECT_NE(opened.status.remedy.find("--redfish-ca FILE"), std::string::npos) << opened.status.remedy;
  EXPECT_NE(opened.status.remedy.find("--insecure"), std::string::npos) << opened.status.remedy;
  expect_no_password(opened, server.password());
}

TEST(RedfishSource, InsecureSkipsVerification) {
  RedfishServer server;
  REQUIRE_SERVER(server);
  RedfishOptions options = options_for(server);
  options.ca_file.reset();
  options.insecure = true;
  const OpenedServerSource opened = open_redfish_source(options);
  ASSERT_EQ(opened.status.state, State::Ok) << opened.status.reason;
  EXPECT_DOUBLE_EQ(read_watts(*opened.source), 344.0);
}

TEST(RedfishSource, WrongPasswordIsAnAuthenticationFailureWithoutThePassword) {
  RedfishServer server;
  REQUIRE_SERVER(server);
  RedfishOptions options = options_for(server);
  const std::string wrong = "Wr0ng-guess-77";
  options.password = Secret(wrong);
  const OpenedServerSource opened = open_redfish_source(options);
  EXPECT_EQ(opened.status.state, State::Unreadable);
  EXPECT_EQ(opened.source, nullptr);
  EXPECT_NE(opened.status.reason.find("authentication failed for user 'wattprint' (wrong user or password?)"),
            std::string::npos)
      << opened.status.reason;
  EXPECT_NE(opened.status.reason.find("401"), std::string::npos) << opened.status.reason;
  EXPECT_NE(opened.status.remedy.find("--redfish-password-file"), std::string::npos);
  expect_no_password(opened, wrong);
  expect_no_password(opened, server.password());
}

TEST(RedfishSource, ForbiddenIsAnAuthenticationFailureToo) {
  RedfishServer server;
  REQUIRE_SERVER(server);
  server.set_status(403);
  const OpenedServerSource opened = open_redfish_source(options_for(server));
  EXPECT_EQ(opened.status.state, State::Unreadable);
  EXPECT_NE(opened.status.reason.find("authentication failed"), std::string::npos) << opened.status.reason;
}

TEST(RedfishSource, SlowAnswerTimesOutAndTheNextReadRecovers) {
  RedfishServer server(variant("environment", 250.0));
  REQUIRE_SERVER(server);
  RedfishOptions options = options_for(server);
  options.timeout = Seconds{1.0};
  const OpenedServerSource opened = open_redfish_source(options);
  ASSERT_EQ(opened.status.state, State::Ok) << opened.status.reason;
  EXPECT_DOUBLE_EQ(read_watts(*opened.source), 250.0);

  server.set_delay_s(3.0);
  const auto start = std::chrono::steady_clock::now();
  const ServerRead slow = opened.source->read();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(slow.reading.has_value());
  EXPECT_NE(slow.error.find("timed out"), std::string::npos) << slow.error;
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 2.0);  // the timeout plus a generous second

  server.set_delay_s(0.0);
  server.set_power_watts(260.0);
  EXPECT_DOUBLE_EQ(read_watts(*opened.source), 260.0);
}

TEST(RedfishSource, SlowServiceAtOpenIsATimeout) {
  RedfishServer server;
  REQUIRE_SERVER(server);
  server.set_delay_s(3.0);
  RedfishOptions options = options_for(server);
  options.timeout = Seconds{0.5};
  const auto start = std::chrono::steady_clock::now();
  const OpenedServerSource opened = open_redfish_source(options);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_NE(opened.status.reason.find("timed out"), std::string::npos) << opened.status.reason;
  EXPECT_FALSE(opened.status.remedy.empty());
  EXPECT_LT(took, 1.5);
}

TEST(RedfishSource, MalformedJsonIsAnErrorAndTheSourceStaysUsable) {
  RedfishServer server(variant("legacy", 344.0));
  REQUIRE_SERVER(server);
  const OpenedServerSource opened = open_redfish_source(options_for(server));
  ASSERT_EQ(opened.status.state, State::Ok) << opened.status.reason;

  server.set_malformed(true);
  const ServerRead broken = opened.source->read();
  EXPECT_FALSE(broken.reading.has_value());
  EXPECT_NE(broken.error.find("malformed JSON"), std::string::npos) << broken.error;
  EXPECT_EQ(broken.error.find('\n'), std::string::npos) << broken.error;

  server.set_malformed(false);
  EXPECT_DOUBLE_EQ(read_watts(*opened.source), 344.0);

  server.set_malformed(true);
  const OpenedServerSource at_open = open_redfish_source(options_for(server));
  EXPECT_EQ(at_open.status.state, State::Error);
  EXPECT_NE(at_open.status.reason.find("malformed JSON"), std::string::npos) << at_open.status.reason;
}

TEST(RedfishSource, HttpErrorsFailOneReadOnly) {
  RedfishServer server(variant("power-subsystem", 500.0));
  REQUIRE_SERVER(server);
  const OpenedServerSource opened = open_redfish_source(options_for(server));
  ASSERT_EQ(opened.status.state, State::Ok) << opened.status.reason;
  server.set_status(503);
  const ServerRead failed = opened.source->read();
  EXPECT_FALSE(failed.reading.has_value());
  EXPECT_NE(failed.error.find("HTTP 503"), std::string::npos) << failed.error;
  server.set_status(0);
  EXPECT_NEAR(read_watts(*opened.source), 500.0, 1e-9);
}

TEST(RedfishSource, RedirectsAreNotFollowed) {
  RedfishServer server;
  REQUIRE_SERVER(server);
  server.set_status(302);
  const OpenedServerSource opened = open_redfish_source(options_for(server));
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_NE(
      opened.status.reason.find("HTTP 302: redirected to 'https://redirected.invalid/redfish/v1/Chassis', "
                                "not followed"),
      std::string::npos)
      << opened.status.reason;
  EXPECT_EQ(server.requests().size(), 1U);
}

TEST(HttpsClient, CapsTheBodySize) {
  RedfishServer server;
  REQUIRE_SERVER(server);
  HttpsClientOptions options;
  options.ca_file = server.ca_file();
  options.user = server.user();
  options.password = Secret(server.password());
  options.max_body_bytes = 600;  // the Power resource is about 900 bytes, the service root about 250
  HttpsClient client(std::move(options));
  const HttpResult big = client.get(server.chassis_url() + "/Power");
  EXPECT_FALSE(big.response.has_value());
  EXPECT_EQ(big.failure, HttpFailure::TooLarge);
  EXPECT_NE(big.error.find("larger than 600 bytes"), std::string::npos) << big.error;
  // The client stays usable.
  const HttpResult small = client.get(server.url() + "/redfish/v1");
  ASSERT_TRUE(small.response.has_value()) << small.error;
  EXPECT_EQ(small.response->status, 200);
  EXPECT_NE(small.response->body.find("RootService"), std::string::npos);
}

TEST(HttpsClient, RefusesCredentialsInTheUrl) {
  HttpsClient client(HttpsClientOptions{});
  const HttpResult result = client.get("https://root:calvin@127.0.0.1:1/redfish/v1");
  EXPECT_FALSE(result.response.has_value());
  EXPECT_EQ(result.error.find("calvin"), std::string::npos) << result.error;
}

TEST(RedfishSource, MissingServiceIsNotFound) {
  RedfishServer server;
  REQUIRE_SERVER(server);
  server.set_status(404);
  const OpenedServerSource opened = open_redfish_source(options_for(server));
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_NE(opened.status.reason.find("HTTP 404 (not found)"), std::string::npos) << opened.status.reason;
  EXPECT_NE(opened.status.remedy.find("https://HOST"), std::string::npos) << opened.status.remedy;
}

TEST(RedfishSource, ConnectionRefused) {
  // A bound socket that does not listen: connecting to its port is refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  RedfishOptions options;
  options.url = "https://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  options.user = "wattprint";
  options.password = Secret("s3cr3t-Pa55word");
  options.timeout = Seconds{2.0};
  const OpenedServerSource opened = open_redfish_source(options);
  ::close(fd);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_NE(opened.status.reason.find("onnect"), std::string::npos) << opened.status.reason;
  EXPECT_NE(opened.status.remedy.find("host and port"), std::string::npos) << opened.status.remedy;
  expect_no_password(opened, "s3cr3t-Pa55word");
}

TEST(RedfishSource, PlainHttpOnlyWhenInsecure) {
  RedfishServer server;
  REQUIRE_SERVER(server);
  RedfishOptions options = options_for(server);
  options.url = "http://127.0.0.1:" + std::to_string(server.port());
  const OpenedServerSource refused = open_redfish_source(options);
  EXPECT_EQ(refused.status.state, State::Error);
  EXPECT_NE(refused.status.reason.find("clear text"), std::string::npos) << refused.status.reason;
  EXPECT_NE(refused.status.remedy.find("--insecure"), std::string::npos) << refused.status.remedy;
  EXPECT_TRUE(server.requests().empty());  // refused before anything was sent

  // With --insecure the request goes out (and fails here: the fake service speaks TLS only).
  options.insecure = true;
  const OpenedServerSource allowed = open_redfish_source(options);
  EXPECT_EQ(allowed.status.reason.find("clear text"), std::string::npos) << allowed.status.reason;
  EXPECT_EQ(allowed.status.state, State::Error);
  expect_no_password(allowed, server.password());
}

TEST(RedfishSource, CredentialsInTheUrlAreRefusedWithoutEchoingThem) {
  RedfishServer server;
  REQUIRE_SERVER(server);
  RedfishOptions options = options_for(server);
  options.url =
      "https://" + server.user() + ":" + server.password() + "@127.0.0.1:" + std::to_string(server.port());
  const OpenedServerSource opened = open_redfish_source(options);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_NE(opened.status.reason.find("--redfish-user"), std::string::npos) << opened.status.reason;
  EXPECT_NE(opened.status.reason.find("--redfish-password-file"), std::string::npos) << opened.status.reason;
  EXPECT_EQ(opened.status.reason.find(server.password()), std::string::npos);
  EXPECT_EQ(opened.status.remedy.find(server.password()), std::string::npos);
  EXPECT_EQ(opened.status.path, "https://***@127.0.0.1:" + std::to_string(server.port()));
  expect_no_password(opened, server.password());
  EXPECT_TRUE(server.requests().empty());
}

TEST(RedfishSource, NotARedfishUrl) {
  RedfishOptions options;
  options.url = "https://127.0.0.1:1/redfish/v1/Systems/1";
  const OpenedServerSource opened = open_redfish_source(options);
  EXPECT_EQ(opened.status.state, State::Error);
  EXPECT_NE(opened.status.reason.find("neither a Redfish service root nor a chassis"), std::string::npos);
}

}  // namespace
}  // namespace wattprint
