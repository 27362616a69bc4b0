// wattprintd's line protocol (src/daemon/protocol.hpp): requests and responses round-trip, and every
// malformed form is rejected without a crash.
#include <gtest/gtest.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "daemon/protocol.hpp"

namespace wattprint::daemon {
namespace {

std::string without_newline(std::string line) {
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

std::vector<SensorInfo> two_sensors() {
  SensorInfo package;
  package.name = "rapl.package-0";
  package.family = "rapl";
  package.component = Component::CpuPackage;
  package.origin = "/sys/class/powercap/intel-rapl:0/energy_uj";
  package.counter_max = 262143328850ULL;
  package.joules_per_raw_unit = 1e-6;
  package.max_power = Watts{125.5};
  SensorInfo dram = package;
  dram.name = "rapl.package-0.dram";
  dram.component = Component::Dram;
  dram.origin = "/sys/class/powercap/intel-rapl:0/intel-rapl:0:0/energy_uj";
  dram.counter_max = 65712999613ULL;
  dram.joules_per_raw_unit = 15.3e-6;
  dram.max_power.reset();
  return {package, dram};
}

TEST(DaemonProtocol, RequestsRoundTrip) {
  const Request hello = parse_request(without_newline(encode_hello_request()));
  EXPECT_EQ(hello.kind, Request::Kind::Hello);
  EXPECT_EQ(hello.version, kProtocolVersion);
  EXPECT_EQ(parse_request(without_newline(encode_read_request())).kind, Request::Kind::Read);
  EXPECT_EQ(parse_request(without_newline(encode_server_request())).kind, Request::Kind::Server);
  EXPECT_EQ(parse_request(without_newline(encode_power_request())).kind, Request::Kind::Power);
}

TEST(DaemonProtocol, EveryOtherRequestIsInvalidWithAReason) {
  const std::vector<std::string> bad = {
      "",
      "read",
      "READ ",
      " READ",
      "READ /etc/shadow",
      "READ\r",
      "HELLO",
      "HELLO ",
      "HELLO 0",
      "HELLO 2",
      "HELLO 1 x",
      "HELLO -1",
      "HELLO 99999999999999999999",
      "HELLO 1\t",
      "OPEN /sys/class/powercap/intel-rapl:0/energy_uj",
      "GET / HTTP/1.1",
      "SERVER ",
      "SERVER /dev/ipmi0",
      "POWER 1",
      "power",
      "POWER\r",
      std::string("READ\0X", 6),
      "\x7f\x45\x4c\x46",
      "\xff\xfe",
      std::string(kMaxRequestLine, 'A'),
      "READ" + std::string(kMaxRequestLine, ' '),
  };
  for (const std::string& line : bad) {
    const Request r = parse_request(line);
    EXPECT_EQ(r.kind, Request::Kind::Invalid) << '"' << line << '"';
    EXPECT_FALSE(r.error.empty()) << '"' << line << '"';
    // The reason echoes nothing the client sent.
    EXPECT_EQ(r.error.find("shadow"), std::string::npos);
  }
  EXPECT_NE(parse_request("HELLO 2").error.find("version 2"), std::string::npos);
}

TEST(DaemonProtocol, HelloResponseRoundTrips) {
  const auto sensors = two_sensors();
  const std::string text = encode_hello_response(sensors);
  EXPECT_EQ(hello_response_length(text), text.size());
  EXPECT_EQ(hello_response_length(text.substr(0, text.size() - 1)), 0U);
  const HelloResponse parsed = parse_hello_response(text);
  ASSERT_TRUE(parsed.error.empty()) << parsed.error;
  ASSERT_EQ(parsed.sensors.size(), 2U);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(parsed.sensors[i].name, sensors[i].name);
    EXPECT_EQ(parsed.sensors[i].family, "rapl");
    EXPECT_EQ(parsed.sensors[i].component, sensors[i].component);
    EXPECT_EQ(parsed.sensors[i].origin, sensors[i].origin);
    EXPECT_EQ(parsed.sensors[i].counter_max, sensors[i].counter_max);
    EXPECT_DOUBLE_EQ(parsed.sensors[i].joules_per_raw_unit, sensors[i].joules_per_raw_unit);
    EXPECT_EQ(parsed.sensors[i].max_power.has_value(), sensors[i].max_power.has_value());
  }
  EXPECT_DOUBLE_EQ(parsed.sensors[0].max_power->value, 125.5);
}

TEST(DaemonProtocol, UnsendableSensorsAreLeftOut) {
  auto sensors = two_sensors();
  sensors[0].name = "has space";
  sensors[1].origin = "line\nbreak";
  const HelloResponse parsed = parse_hello_response(encode_hello_response(sensors));
  ASSERT_TRUE(parsed.error.empty()) << parsed.error;
  EXPECT_TRUE(parsed.sensors.empty());
}

TEST(DaemonProtocol, MalformedHelloResponsesAreRejected) {
  const std::string good_line =
      "SENSOR rapl.package-0 package 262143328850 9.9999999999999995e-07 - /sys/x/energy_uj\n";
  const std::vector<std::string> bad = {
      "",
      "OK 1 1",
      "OK 1 1\n",
      "OK 2 1\n" + good_line,
      "OK 1 65\n",
      "OK 1 x\n",
      "OK 1 1 extra\n" + good_line,
      "OK 1 1 \n" + good_line,
      "OK 1 0\nSENSOR trailing\n",
      "OK 1 1\nSENSOR rapl.package-0 package 0 1e-6 - /x\n",
      "OK 1 1\nSENSOR rapl.package-0 cpu 10 1e-6 - /x\n",
      "OK 1 1\nSENSOR rapl.package-0 package 10 -1e-6 - /x\n",
      "OK 1 1\nSENSOR rapl.package-0 package 10 nan - /x\n",
      "OK 1 1\nSENSOR rapl.package-0 package 10 1e-6 -5 /x\n",
      "OK 1 1\nSENSOR rapl.package-0 package 10 1e-6 -\n",
      "OK 1 1\nSENSOR rapl.package-0 package 10 1e-6 - /x\x01\n",
      "OK 1 1\nSENSE rapl.package-0 package 10 1e-6 - /x\n",
      "OK 1 1\nSENSOR rapl.package-0 package 99999999999999999999999 1e-6 - /x\n",
      "ERR access denied: uid 65534 is not in group wattprint (gid 998)\n",
  };
  for (const std::string& text : bad) {
    const HelloResponse r = parse_hello_response(text);
    EXPECT_FALSE(r.error.empty()) << '"' << text << '"';
    EXPECT_TRUE(r.sensors.empty()) << '"' << text << '"';
  }
  EXPECT_NE(parse_hello_response(bad.back()).error.find("not in group wattprint"), std::string::npos);
  EXPECT_EQ(hello_response_length(bad.back()), bad.back().size());
}

TEST(DaemonProtocol, ReadResponseRoundTrips) {
  const std::vector<std::uint64_t> raw = {0, 18446744073709551615ULL, 123456789};
  const std::vector<int> errors = {0, EIO, EBADMSG};
  std::vector<std::uint64_t> got_raw(3, 7);
  std::vector<int> got_errors(3, -1);
  EXPECT_EQ(parse_read_response(encode_read_response(raw, errors), got_raw, got_errors), "");
  EXPECT_EQ(got_raw, raw);
  EXPECT_EQ(got_errors, errors);
}

TEST(DaemonProtocol, MalformedReadResponsesAreRejected) {
  const std::vector<std::string> bad = {
      "",
      "VALUES",
      "VALUES 1 5 0",                         // another count than the HELLO gave (2)
      "VALUES 2 5 0",                         // too few fields
      "VALUES 2 5 0 6",                       // too few fields
      "VALUES 2 5 0 6 0 7",                   // trailing
      "VALUES 2 5 0 -6 0",                    // negative
      "VALUES 2 5 0 6 x",                     // not a number
      "VALUES 2 5 0 18446744073709551616 0",  // over 64 bits
      "VALUE 2 5 0 6 0",
      "VALUES  2 5 0 6 0",
      "VALUES 2 5 0 6 0 ",
      "ERR rate limit exceeded",
      std::string(kMaxResponseLine + 1, '1'),
  };
  for (const std::string& line : bad) {
    std::vector<std::uint64_t> raw(2);
    std::vector<int> errors(2);
    EXPECT_NE(parse_read_response(line, raw, errors), "") << '"' << line << '"';
  }
  std::vector<std::uint64_t> raw(2);
  std::vector<int> errors(3);
  EXPECT_NE(parse_read_response("VALUES 2 5 0 6 0", raw, errors), "");
}

TEST(DaemonProtocol, ErrorLinesAreOneSanitizedLine) {
  const std::string line = encode_error("bad\nthing\x01" + std::string(1000, 'x'));
  EXPECT_EQ(line.substr(0, 4), "ERR ");
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_LE(line.size(), 300U);
  EXPECT_EQ(line.find('\x01'), std::string::npos);
}

TEST(DaemonProtocol, ServerResponsesRoundTrip) {
  const ServerResponse served = parse_server_response(encode_server_response(
      "ipmi-dcmi", "IPMI DCMI over lanplus to 10.0.0.5:623 as admin (cipher suite 3)"));
  EXPECT_TRUE(served.error.empty()) << served.error;
  EXPECT_TRUE(served.served);
  EXPECT_EQ(served.family, "ipmi-dcmi");
  EXPECT_EQ(served.origin, "IPMI DCMI over lanplus to 10.0.0.5:623 as admin (cipher suite 3)");

  const ServerResponse none =
      parse_server_response(encode_no_server_response("no usable server power source"));
  EXPECT_TRUE(none.error.empty()) << none.error;
  EXPECT_FALSE(none.served);
  EXPECT_EQ(none.reason, "wattprintd: no usable server power source");

  // A family with a space or an origin with a control character cannot be sent: NOSERVER says so.
  for (const ServerResponse& r : {parse_server_response(encode_server_response("ipmi dcmi", "x")),
                                  parse_server_response(encode_server_response("ipmi-dcmi", "a\nb")),
                                  parse_server_response(encode_server_response("", "x"))}) {
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_FALSE(r.served);
    EXPECT_NE(r.reason.find("cannot be sent"), std::string::npos) << r.reason;
  }
  // A reason with control characters is one line.
  EXPECT_EQ(encode_no_server_response("a\nb\x01"), "NOSERVER a?b?\n");
}

TEST(DaemonProtocol, MalformedServerResponsesAreRejected) {
  for (const std::string line : {"", "SERVER", "SERVER ipmi-dcmi", "SERVER ipmi-dcmi ", "NOSERVER",
                                 "SERVERS a b", "OK 1 0", "VALUES 0", "SERVER \x01 b", "POWER 1 0"}) {
    const ServerResponse r = parse_server_response(line);
    EXPECT_FALSE(r.served) << '"' << line << '"';
    EXPECT_FALSE(r.error.empty()) << '"' << line << '"';
  }
  const ServerResponse refused = parse_server_response("ERR access denied: uid 65534 is not in group x\n");
  EXPECT_FALSE(refused.served);
  EXPECT_EQ(refused.error, "wattprintd: access denied: uid 65534 is not in group x");
  EXPECT_FALSE(parse_server_response(std::string(kMaxResponseLine + 10, 'S')).error.empty());
}

TEST(DaemonProtocol, PowerResponsesRoundTrip) {
  const PowerResponse reading = parse_power_response(encode_power_response(343.75, 1.0));
  EXPECT_TRUE(reading.error.empty()) << reading.error;
  EXPECT_TRUE(reading.ok);
  EXPECT_DOUBLE_EQ(reading.watts, 343.75);
  EXPECT_DOUBLE_EQ(reading.window_s, 1.0);
  // Full precision both ways.
  const PowerResponse precise = parse_power_response(encode_power_response(0.1 + 0.2, 0.0));
  EXPECT_EQ(precise.watts, 0.1 + 0.2);
  EXPECT_EQ(precise.window_s, 0.0);

  const PowerResponse failed = parse_power_response(encode_power_failure("BMC timed out"));
  EXPECT_TRUE(failed.error.empty()) << failed.error;
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.failure, "wattprintd: BMC timed out");

  // Values that are not a reading are never sent as one.
  for (const auto& [watts, window] : std::vector<std::pair<double, double>>{
           {-1.0, 0.0}, {std::nan(""), 0.0}, {std::numeric_limits<double>::infinity(), 0.0}, {1.0, -1.0}}) {
    const PowerResponse r = parse_power_response(encode_power_response(watts, window));
    EXPECT_FALSE(r.ok) << watts << " " << window;
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_FALSE(r.failure.empty());
  }
}

TEST(DaemonProtocol, MalformedPowerResponsesAreRejected) {
  for (const std::string line : {"", "POWER", "POWER 1", "POWER 1 ", "POWER 1 2 3", "POWER -1 0",
                                 "POWER 1 -2", "POWER nan 0", "POWER inf 0", "POWER 1e999 0", "POWER x 0",
                                 "POWER -", "POWERS 1 0", "SERVER a b", "POWER 1 0\n\n"}) {
    const PowerResponse r = parse_power_response(line);
    EXPECT_FALSE(r.ok) << '"' << line << '"';
    EXPECT_FALSE(r.error.empty()) << '"' << line << '"';
  }
  const PowerResponse limited = parse_power_response("ERR rate limit exceeded (50 requests/s, burst 50)\n");
  EXPECT_FALSE(limited.ok);
  EXPECT_NE(limited.error.find("rate limit"), std::string::npos);
}

}  // namespace
}  // namespace wattprint::daemon
