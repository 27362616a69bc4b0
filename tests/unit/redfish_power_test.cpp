// Redfish payload parsing on realistic payloads (DMTF public-rackmount1 mockup, HPE iLO 4 legacy Power) and
// on the odd ones BMCs also send: null readings, wrong types, missing keys. Nothing here may throw.
#include "sources/server/redfish/redfish_power.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace wattprint::redfish {
namespace {

using nlohmann::json;

// GET /redfish/v1/Chassis/1U/Power of public-rackmount1 (docs/sensors.md §8.1).
const char* const kRackmountPower = R"({
  "@odata.type": "#Power.v1_7_1.Power", "Id": "Power", "Name": "Power",
  "PowerControl": [ {
      "@odata.id": "/redfish/v1/Chassis/1U/Power#/PowerControl/0", "MemberId": "0",
      "Name": "System Input Power",
      "PowerConsumedWatts": 344,
      "PowerCapacityWatts": 800,
      "PowerMetrics": { "IntervalInMin": 30, "MinConsumedWatts": 271, "MaxConsumedWatts": 489, "AverageConsumedWatts": 319 },
      "PowerLimit": { "LimitInWatts": 500, "LimitException": "LogEventOnly", "CorrectionInMs": 50 } } ],
  "PowerSupplies": [ { "LastPowerOutputWatts": 325, "PowerCapacityWatts": 800 } ],
  "@odata.id": "/redfish/v1/Chassis/1U/Power" })";

// An HPE iLO 4 style legacy Power resource: old @odata.type spelling, OEM extras under Oem.Hp, a float
// reading.
const char* const kIlo4Power = R"({
  "@odata.context": "/redfish/v1/$metadata#Chassis/Members/1/Power$entity",
  "@odata.id": "/redfish/v1/Chassis/1/Power/",
  "@odata.type": "#Power.1.0.1.Power",
  "Id": "Power", "Name": "PowerMetrics",
  "Oem": { "Hp": { "@odata.type": "#HpPowerMetricsExt.1.2.0.HpPowerMetricsExt",
                   "SNMPPowerThresholdAlert": { "DurationInMin": 0, "ThresholdWatts": 0, "Trigger": "Disabled" },
                   "Type": "HpPowerMetricsExt.1.2.0" } },
  "PowerCapacityWatts": 1000,
  "PowerConsumedWatts": 128,
  "PowerControl": [ { "PowerCapacityWatts": 1000, "PowerConsumedWatts": 127.5,
                      "PowerMetrics": { "AverageConsumedWatts": 126, "IntervalInMin": 20,
                                        "MaxConsumedWatts": 164, "MinConsumedWatts": 124 } } ],
  "PowerSupplies": [ { "FirmwareVersion": "1.00", "LastPowerOutputWatts": 70, "LineInputVoltage": 228,
                       "LineInputVoltageType": "ACHighLine", "Model": "720478-B21",
                       "Oem": { "Hp": { "AveragePowerOutputWatts": 70, "BayNumber": 1, "HotplugCapable": true,
                                        "MaxPowerOutputWatts": 73, "Mismatched": false,
                                        "PowerSupplyStatus": { "State": "Ok" } } },
                       "PowerCapacityWatts": 500, "PowerSupplyType": "AC",
                       "Status": { "Health": "OK", "State": "Enabled" } } ],
  "Type": "PowerMetrics.0.11.0" })";

// GET /redfish/v1/Chassis/1U/EnvironmentMetrics of public-rackmount1 (docs/sensors.md §8.2).
const char* const kEnvironmentMetrics = R"({
  "@odata.type": "#EnvironmentMetrics.v1_3_0.EnvironmentMetrics", "Id": "EnvironmentMetrics",
  "Name": "Chassis Environment Metrics",
  "TemperatureCelsius": { "DataSourceUri": "/redfish/v1/Chassis/1U/Sensors/AmbientTemp", "Reading": 22.5 },
  "PowerWatts": { "DataSourceUri": "/redfish/v1/Chassis/1U/Sensors/TotalPower", "Reading": 374 },
  "EnergykWh": { "DataSourceUri": "/redfish/v1/Chassis/1U/Sensors/TotalEnergy", "Reading": 325675 },
  "@odata.id": "/redfish/v1/Chassis/1U/EnvironmentMetrics" })";

std::string supply_metrics(const std::string& bay, const std::string& reading) {
  return R"({ "@odata.type": "#PowerSupplyMetrics.v1_1_0.PowerSupplyMetrics", "Id": "Metrics",
    "Name": "Metrics for Power Supply )" +
         bay + R"(",
    "InputVoltage": { "DataSourceUri": "/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/)" +
         bay +
         R"(/Sensors/InputVoltage", "Reading": 230.2 },
    "InputPowerWatts": { "DataSourceUri": "/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/)" +
         bay + R"(/Sensors/InputPower", "Reading": )" + reading + R"( },
    "OutputPowerWatts": { "Reading": 90 },
    "EnergykWh": { "Reading": 1020 },
    "@odata.id": "/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/)" +
         bay + R"(/Metrics" })";
}

json parse(const std::string& text) {
  Parsed<json> parsed = parse_payload(text);
  EXPECT_TRUE(parsed.ok()) << parsed.reason;
  return parsed.value.value_or(json::object());
}

TEST(RedfishPower, LegacyPowerControlOfTheDmtfMockup) {
  const Parsed<double> watts = legacy_power_consumed(parse(kRackmountPower));
  ASSERT_TRUE(watts.ok()) << watts.reason;
  EXPECT_DOUBLE_EQ(*watts.value, 344.0);
  EXPECT_TRUE(watts.reason.empty());
}

TEST(RedfishPower, LegacyPowerOfHpeIlo4) {
  const Parsed<double> watts = legacy_power_consumed(parse(kIlo4Power));
  ASSERT_TRUE(watts.ok()) << watts.reason;
  EXPECT_DOUBLE_EQ(*watts.value, 127.5);  // PowerControl[0], not iLO's top-level PowerConsumedWatts
}

TEST(RedfishPower, LegacyNullReadingIsAReason) {
  json power = parse(kRackmountPower);
  power["PowerControl"][0]["PowerConsumedWatts"] = nullptr;
  const Parsed<double> watts = legacy_power_consumed(power);
  EXPECT_FALSE(watts.ok());
  EXPECT_NE(watts.reason.find("PowerControl[0].PowerConsumedWatts is null"), std::string::npos)
      << watts.reason;
}

TEST(RedfishPower, LegacyOddShapes) {
  const auto reason = [](const char* text) {
    const Parsed<double> watts = legacy_power_consumed(json::parse(text));
    EXPECT_FALSE(watts.ok()) << text;
    return watts.reason;
  };
  EXPECT_EQ(reason(R"({"Id": "Power"})"), "no PowerControl");
  EXPECT_EQ(reason(R"({"PowerControl": {"PowerConsumedWatts": 1}})"),
            "PowerControl is an object, not an array");
  EXPECT_EQ(reason(R"({"PowerControl": []})"), "PowerControl is empty");
  EXPECT_EQ(reason(R"({"PowerControl": [3]})"), "PowerControl[0] is a number, not an object");
  EXPECT_EQ(reason(R"({"PowerControl": [{"Name": "x"}]})"), "no PowerControl[0].PowerConsumedWatts");
  EXPECT_EQ(reason(R"({"PowerControl": [{"PowerConsumedWatts": "344"}]})"),
            "PowerControl[0].PowerConsumedWatts is a string, not a number");
  EXPECT_EQ(reason(R"({"PowerControl": [{"PowerConsumedWatts": true}]})"),
            "PowerControl[0].PowerConsumedWatts is a boolean, not a number");
  EXPECT_NE(reason(R"({"PowerControl": [{"PowerConsumedWatts": -5}]})").find("-5 W"), std::string::npos);
  EXPECT_EQ(reason("[1, 2]"), "no PowerControl");
  EXPECT_EQ(reason("null"), "no PowerControl");
}

TEST(RedfishPower, EnvironmentMetricsPowerWatts) {
  const Parsed<double> watts = environment_metrics_power(parse(kEnvironmentMetrics));
  ASSERT_TRUE(watts.ok()) << watts.reason;
  EXPECT_DOUBLE_EQ(*watts.value, 374.0);
}

TEST(RedfishPower, EnvironmentMetricsOddShapes) {
  json metrics = parse(kEnvironmentMetrics);
  metrics["PowerWatts"]["Reading"] = nullptr;
  EXPECT_EQ(environment_metrics_power(metrics).reason, "PowerWatts.Reading is null (the BMC has no reading)");
  metrics["PowerWatts"] = 374;
  EXPECT_EQ(environment_metrics_power(metrics).reason, "PowerWatts is a number, not an object");
  metrics["PowerWatts"] = json::object({{"DataSourceUri", "/x"}});
  EXPECT_EQ(environment_metrics_power(metrics).reason, "no PowerWatts.Reading");
  metrics.erase("PowerWatts");
  EXPECT_EQ(environment_metrics_power(metrics).reason, "no PowerWatts");
  EXPECT_FALSE(environment_metrics_power(json("text")).ok());
}

TEST(RedfishPower, PowerSupplyMetricsAddUp) {
  double sum = 0.0;
  for (const auto& [bay, reading] :
       std::vector<std::pair<std::string, std::string>>{{"Bay1", "189.2"}, {"Bay2", "154.8"}}) {
    const Parsed<double> watts = power_supply_input_power(parse(supply_metrics(bay, reading)));
    ASSERT_TRUE(watts.ok()) << watts.reason;
    sum += *watts.value;
  }
  EXPECT_NEAR(sum, 344.0, 1e-9);
  const Parsed<double> none = power_supply_input_power(parse(supply_metrics("Bay3", "null")));
  EXPECT_EQ(none.reason, "InputPowerWatts.Reading is null (the BMC has no reading)");
  const Parsed<double> text = power_supply_input_power(parse(supply_metrics("Bay3", "\"n/a\"")));
  EXPECT_EQ(text.reason, "InputPowerWatts.Reading is a string, not a number");
}

TEST(RedfishPower, PowerSupplyPresence) {
  EXPECT_TRUE(power_supply_present(json::parse(R"({"Status": {"State": "Enabled", "Health": "OK"}})")));
  EXPECT_FALSE(power_supply_present(json::parse(R"({"Status": {"State": "Absent"}})")));
  EXPECT_TRUE(power_supply_present(json::parse(R"({"Id": "Bay1"})")));
  EXPECT_TRUE(power_supply_present(json::parse(R"({"Status": {"State": 3}})")));
  EXPECT_TRUE(power_supply_present(json::parse("[]")));
}

TEST(RedfishPower, CollectionMembers) {
  const json chassis = json::parse(R"({
    "@odata.type": "#ChassisCollection.ChassisCollection", "Name": "Chassis Collection",
    "Members@odata.count": 3,
    "Members": [ { "@odata.id": "/redfish/v1/Chassis/1U" }, { "@odata.id": 7 }, "junk",
                 { "@odata.id": "/redfish/v1/Chassis/Blade2" } ],
    "@odata.id": "/redfish/v1/Chassis" })");
  const Parsed<std::vector<std::string>> members = collection_members(chassis);
  ASSERT_TRUE(members.ok()) << members.reason;
  EXPECT_EQ(*members.value,
            (std::vector<std::string>{"/redfish/v1/Chassis/1U", "/redfish/v1/Chassis/Blade2"}));
  EXPECT_EQ(collection_members(json::parse(R"({"Members": {}})")).reason,
            "Members is an object, not an array");
  EXPECT_EQ(collection_members(json::parse(R"({"Name": "x"})")).reason, "not a collection (no Members)");
  EXPECT_TRUE(collection_members(json::parse(R"({"Members": []})")).value->empty());
}

TEST(RedfishPower, ChassisLinks) {
  const json chassis = json::parse(R"({
    "@odata.type": "#Chassis.v1_21_0.Chassis", "Id": "1U", "ChassisType": "RackMount",
    "EnvironmentMetrics": { "@odata.id": "/redfish/v1/Chassis/1U/EnvironmentMetrics" },
    "PowerSubsystem": { "@odata.id": "/redfish/v1/Chassis/1U/PowerSubsystem" },
    "Power": "/redfish/v1/Chassis/1U/Power",
    "Thermal": { "@odata.id": null } })");
  EXPECT_EQ(link(chassis, "EnvironmentMetrics"), "/redfish/v1/Chassis/1U/EnvironmentMetrics");
  EXPECT_EQ(link(chassis, "PowerSubsystem"), "/redfish/v1/Chassis/1U/PowerSubsystem");
  EXPECT_EQ(link(chassis, "Power"), std::nullopt);  // a bare string is not a link
  EXPECT_EQ(link(chassis, "Thermal"), std::nullopt);
  EXPECT_EQ(link(chassis, "Sensors"), std::nullopt);
  EXPECT_EQ(link(json(42), "Power"), std::nullopt);
}

TEST(RedfishPower, MalformedPayloads) {
  const Parsed<json> truncated = parse_payload(R"({"PowerControl": [{"PowerConsumedWatts": 34)");
  EXPECT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.reason.rfind("malformed JSON: ", 0), 0U) << truncated.reason;
  EXPECT_EQ(truncated.reason.find('\n'), std::string::npos);
  EXPECT_EQ(truncated.reason.find("[json.exception"), std::string::npos);
  EXPECT_EQ(parse_payload("<html>502 Bad Gateway</html>").reason.rfind("malformed JSON: ", 0), 0U);
  EXPECT_EQ(parse_payload("").reason.rfind("malformed JSON: ", 0), 0U);
  EXPECT_EQ(parse_payload("[1]").reason, "malformed JSON: an array, not an object");
  EXPECT_TRUE(parse_payload(kRackmountPower).ok());
}

TEST(RedfishUrl, ParsesServiceAndChassis) {
  const Parsed<RedfishUrl> root = parse_url("https://10.0.0.5:8443/");
  ASSERT_TRUE(root.ok()) << root.reason;
  EXPECT_EQ(root.value->scheme, "https");
  EXPECT_EQ(root.value->origin, "https://10.0.0.5:8443");
  EXPECT_EQ(root.value->path, "");
  EXPECT_EQ(url_target(root.value->path), UrlTarget::ServiceRoot);

  const Parsed<RedfishUrl> chassis = parse_url("HTTPS://bmc.example/redfish/v1/Chassis/1U");
  ASSERT_TRUE(chassis.ok()) << chassis.reason;
  EXPECT_EQ(chassis.value->scheme, "https");
  EXPECT_EQ(chassis.value->origin, "https://bmc.example");
  EXPECT_EQ(url_target(chassis.value->path), UrlTarget::Chassis);

  EXPECT_EQ(url_target("/redfish/v1"), UrlTarget::ServiceRoot);
  EXPECT_EQ(url_target("/redfish/v1/Chassis"), UrlTarget::ChassisCollection);
  EXPECT_EQ(url_target("/redfish/v1/Chassis/1U/Power"), UrlTarget::Other);
  EXPECT_EQ(url_target("/redfish/v1/Systems/1"), UrlTarget::Other);
  EXPECT_EQ(parse_url("http://[fe80::1]:8000").value->origin, "http://[fe80::1]:8000");
}

TEST(RedfishUrl, RefusesCredentialsWithoutEchoingThem) {
  const Parsed<RedfishUrl> url = parse_url("https://admin:hunter2@10.0.0.5/redfish/v1");
  EXPECT_FALSE(url.ok());
  EXPECT_NE(url.reason.find("--redfish-user"), std::string::npos);
  EXPECT_NE(url.reason.find("--redfish-password-file"), std::string::npos);
  EXPECT_EQ(url.reason.find("hunter2"), std::string::npos);
  EXPECT_EQ(url.reason.find("admin"), std::string::npos);
}

TEST(RedfishUrl, RedactsCredentials) {
  EXPECT_EQ(redact_url("https://admin:hunter2@10.0.0.5/redfish/v1"), "https://***@10.0.0.5/redfish/v1");
  EXPECT_EQ(redact_url("https://a:b@c@10.0.0.5"), "https://***@10.0.0.5");
  EXPECT_EQ(redact_url("https://10.0.0.5/x@y"), "https://10.0.0.5/x@y");
  EXPECT_EQ(redact_url("https://10.0.0.5"), "https://10.0.0.5");
  EXPECT_EQ(redact_url("not a url"), "not a url");
}

TEST(RedfishUrl, RefusesOthers) {
  EXPECT_FALSE(parse_url("10.0.0.5").ok());
  EXPECT_FALSE(parse_url("ftp://10.0.0.5").ok());
  EXPECT_FALSE(parse_url("https://").ok());
  EXPECT_FALSE(parse_url("https://:443/").ok());
  EXPECT_FALSE(parse_url("https://bmc/redfish/v1?$expand=*").ok());
}

TEST(RedfishUrl, ResolvesLinksOnTheSameOriginOnly) {
  const std::string origin = "https://10.0.0.5:8443";
  EXPECT_EQ(resolve_link(origin, "/redfish/v1/Chassis/1U/Power#/PowerControl/0"),
            "https://10.0.0.5:8443/redfish/v1/Chassis/1U/Power");
  EXPECT_EQ(resolve_link(origin, "https://10.0.0.5:8443/redfish/v1/Chassis/1U/"),
            "https://10.0.0.5:8443/redfish/v1/Chassis/1U");
  EXPECT_EQ(resolve_link(origin, "https://evil.example/redfish/v1/Chassis/1U"), std::nullopt);
  EXPECT_EQ(resolve_link(origin, "https://10.0.0.5:9999/redfish/v1"), std::nullopt);
  EXPECT_EQ(resolve_link(origin, "//evil.example/redfish/v1"), std::nullopt);
  EXPECT_EQ(resolve_link(origin, "Chassis/1U"), std::nullopt);
  EXPECT_EQ(resolve_link(origin, ""), std::nullopt);
}

}  // namespace
}  // namespace wattprint::redfish
