// DCMI Get Power Reading bytes: the request, the decoding of real responses (docs/sensors.md 7.1-7.4),
// every error path, and the choice between the BMC's average and current power.
#include "sources/server/ipmi/dcmi_codec.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace wattprint::dcmi {
namespace {

// Verified with ipmi_sim + ipmitool/freeipmi (sensors.md 7.2, 7.4), completion code first:
// 250 W current, 240 min, 260 max, 250 average, timestamp 0x6b08ffab, period 1000 ms, active.
const std::vector<std::uint8_t> kVerified = {0x00, 0xdc, 0xfa, 0x00, 0xf0, 0x00, 0x04, 0x01, 0xfa, 0x00,
                                             0xab, 0xff, 0x08, 0x6b, 0xe8, 0x03, 0x00, 0x00, 0x40};

std::vector<std::uint8_t> with(std::vector<std::uint8_t> bytes, std::size_t at, std::uint8_t value) {
  bytes[at] = value;
  return bytes;
}

TEST(DcmiCodec, RequestIsSystemPowerStatistics) {
  const auto rq = power_reading_request();
  EXPECT_EQ(rq, (std::array<std::uint8_t, 4>{0xDC, 0x01, 0x00, 0x00}));
  EXPECT_EQ(kNetFnGroupExtension, 0x2C);
  EXPECT_EQ(kCmdGetPowerReading, 0x02);
}

TEST(DcmiCodec, DecodesVerifiedResponse) {
  const DecodedResponse d = decode_power_reading(kVerified);
  ASSERT_TRUE(d.reading) << d.error;
  EXPECT_TRUE(d.error.empty());
  EXPECT_EQ(d.completion_code, 0);
  EXPECT_EQ(d.reading->current_w, 250);
  EXPECT_EQ(d.reading->minimum_w, 240);
  EXPECT_EQ(d.reading->maximum_w, 260);
  EXPECT_EQ(d.reading->average_w, 250);
  EXPECT_EQ(d.reading->timestamp_s, 0x6b08ffabU);
  EXPECT_EQ(d.reading->period_ms, 1000U);
  EXPECT_TRUE(d.reading->measurement_active);
}

TEST(DcmiCodec, FieldsAreLittleEndian) {
  const std::vector<std::uint8_t> r = {0x00, 0xdc, 0x34, 0x12, 0x02, 0x01, 0x04, 0x03, 0x06, 0x05,
                                       0x01, 0x02, 0x03, 0x04, 0x60, 0xea, 0x00, 0x00, 0x40};
  const DecodedResponse d = decode_power_reading(r);
  ASSERT_TRUE(d.reading) << d.error;
  EXPECT_EQ(d.reading->current_w, 0x1234);
  EXPECT_EQ(d.reading->minimum_w, 0x0102);
  EXPECT_EQ(d.reading->maximum_w, 0x0304);
  EXPECT_EQ(d.reading->average_w, 0x0506);
  EXPECT_EQ(d.reading->timestamp_s, 0x04030201U);
  EXPECT_EQ(d.reading->period_ms, 60000U);
}

TEST(DcmiCodec, LongerResponseIsAccepted) {
  auto r = kVerified;
  r.push_back(0x99);
  EXPECT_TRUE(decode_power_reading(r).reading);
}

TEST(DcmiCodec, StateIsMaskedNotCompared) {
  // Reserved bits set around bit 6: still active.
  auto d = decode_power_reading(with(kVerified, 18, 0xFF));
  ASSERT_TRUE(d.reading);
  EXPECT_TRUE(d.reading->measurement_active);
  d = decode_power_reading(with(kVerified, 18, 0xBF));  // every bit but 6
  ASSERT_TRUE(d.reading);
  EXPECT_FALSE(d.reading->measurement_active);
  d = decode_power_reading(with(kVerified, 18, 0x00));
  ASSERT_TRUE(d.reading);
  EXPECT_FALSE(d.reading->measurement_active);
}

TEST(DcmiCodec, EmptyResponse) {
  const DecodedResponse d = decode_power_reading({});
  EXPECT_FALSE(d.reading);
  EXPECT_NE(d.error.find("empty"), std::string::npos) << d.error;
}

TEST(DcmiCodec, ShortResponse) {
  const std::vector<std::uint8_t> r(kVerified.begin(), kVerified.begin() + 10);
  const DecodedResponse d = decode_power_reading(r);
  EXPECT_FALSE(d.reading);
  EXPECT_NE(d.error.find("short"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find("10 bytes"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find("19"), std::string::npos) << d.error;
  // One byte short.
  EXPECT_FALSE(
      decode_power_reading(std::vector<std::uint8_t>(kVerified.begin(), kVerified.end() - 1)).reading);
}

TEST(DcmiCodec, WrongGroupId) {
  const DecodedResponse d = decode_power_reading(with(kVerified, 1, 0x00));
  EXPECT_FALSE(d.reading);
  EXPECT_NE(d.error.find("group id 0x00"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find("0xDC"), std::string::npos) << d.error;
}

TEST(DcmiCodec, InvalidCommandMeansNoDcmi) {
  // A BMC without DCMI answers only the completion code (ipmi_sim: "02 c1").
  const DecodedResponse d = decode_power_reading(std::vector<std::uint8_t>{0xC1});
  EXPECT_FALSE(d.reading);
  EXPECT_EQ(d.completion_code, 0xC1);
  EXPECT_NE(d.error.find("0xC1"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find("invalid command"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find("does not support DCMI"), std::string::npos) << d.error;
}

TEST(DcmiCodec, InsufficientPrivilegeSaysAdmin) {
  const DecodedResponse d = decode_power_reading(std::vector<std::uint8_t>{0xD4, 0xDC});
  EXPECT_FALSE(d.reading);
  EXPECT_EQ(d.completion_code, 0xD4);
  EXPECT_NE(d.error.find("insufficient privilege"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find("privilege admin"), std::string::npos) << d.error;
}

TEST(DcmiCodec, CompletionCodeNamesInErrors) {
  struct Case {
    std::uint8_t code;
    const char* text;
  };
  for (const Case& c : {Case{0xC3, "timeout"}, Case{0xFF, "unspecified error"}, Case{0xC0, "node busy"},
                        Case{0xCC, "invalid data field"}, Case{0xD5, "not supported in present state"},
                        Case{0x80, "command-specific"}, Case{0x01, "device-specific"}}) {
    // A completion code wins even when the rest of a full response follows.
    const DecodedResponse d = decode_power_reading(with(kVerified, 0, c.code));
    EXPECT_FALSE(d.reading);
    EXPECT_EQ(d.completion_code, c.code);
    EXPECT_NE(d.error.find(c.text), std::string::npos) << d.error;
    EXPECT_EQ(d.error.find('\n'), std::string::npos) << d.error;
  }
  EXPECT_STREQ(completion_code_name(0xC1), "invalid command");
  EXPECT_STREQ(completion_code_name(0xD4), "insufficient privilege level");
  EXPECT_STREQ(completion_code_name(0xC3), "timeout while processing command");
  EXPECT_STREQ(completion_code_name(0xFF), "unspecified error");
  EXPECT_STREQ(completion_code_name(0xE0), "reserved completion code");
}

PowerReading reading(std::uint16_t current, std::uint16_t average, std::uint32_t period_ms,
                     bool active = true) {
  PowerReading r;
  r.current_w = current;
  r.minimum_w = current;
  r.maximum_w = current;
  r.average_w = average;
  r.period_ms = period_ms;
  r.measurement_active = active;
  return r;
}

TEST(DcmiCodec, AverageOverPeriodUpToOneMinute) {
  ServerRead r = to_server_reading(reading(250, 240, 1000));
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 240.0);
  EXPECT_DOUBLE_EQ(r.reading->window.count(), 1.0);
  r = to_server_reading(reading(250, 240, 60000));
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 240.0);
  EXPECT_DOUBLE_EQ(r.reading->window.count(), 60.0);
  r = to_server_reading(reading(250, 240, 500));
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->window.count(), 0.5);
}

TEST(DcmiCodec, CurrentWhenPeriodZeroOrLong) {
  ServerRead r = to_server_reading(reading(250, 240, 0));
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 250.0);
  EXPECT_DOUBLE_EQ(r.reading->window.count(), 0.0);
  r = to_server_reading(reading(250, 240, 60001));  // "since reset" style periods
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 250.0);
  EXPECT_DOUBLE_EQ(r.reading->window.count(), 0.0);
  r = to_server_reading(reading(250, 240, 0xFFFFFFFFU));
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 250.0);
}

TEST(DcmiCodec, MeasurementNotActive) {
  const ServerRead r = to_server_reading(reading(250, 250, 1000, false));
  EXPECT_FALSE(r.reading);
  EXPECT_NE(r.error.find("not active"), std::string::npos) << r.error;
}

TEST(DcmiCodec, ImplausibleValues) {
  ServerRead r = to_server_reading(reading(250, 0, 1000));  // the average is the value used
  EXPECT_FALSE(r.reading);
  EXPECT_NE(r.error.find("0 W"), std::string::npos) << r.error;
  r = to_server_reading(reading(0, 250, 0));  // the current is the value used
  EXPECT_FALSE(r.reading);
  EXPECT_NE(r.error.find("current power 0 W"), std::string::npos) << r.error;
  r = to_server_reading(reading(65535, 250, 0));
  EXPECT_FALSE(r.reading);
  EXPECT_NE(r.error.find("65535 W"), std::string::npos) << r.error;
  r = to_server_reading(reading(250, 65535, 1000));
  EXPECT_FALSE(r.reading);
  EXPECT_NE(r.error.find("average power 65535 W"), std::string::npos) << r.error;
  // The value not used may be anything.
  r = to_server_reading(reading(0, 250, 1000));
  ASSERT_TRUE(r.reading) << r.error;
  EXPECT_DOUBLE_EQ(r.reading->power.value, 250.0);
}

}  // namespace
}  // namespace wattprint::dcmi
