#!/usr/bin/env python3
"""A local HTTPS Redfish service for tests (python3 standard library only).

Serves a chassis "1U" with payloads modelled on DMTF's public-rackmount1 mockup (docs/sensors.md §8), in
one of three variants:
  legacy           Chassis/1U links Power only: PowerControl[0].PowerConsumedWatts.
  environment      EnvironmentMetrics PowerWatts.Reading (PowerSubsystem and Power are linked as well).
  power-subsystem  EnvironmentMetrics without PowerWatts, PowerSubsystem with two present power supplies
                   (their Metrics InputPowerWatts.Reading add up to the power) and one empty bay, and a
                   legacy Power whose PowerConsumedWatts is null.
  none             EnvironmentMetrics without PowerWatts and a legacy Power whose PowerConsumedWatts is null:
                   no power reading anywhere.

Every request needs HTTP Basic auth. The control file (JSON, re-read on every request; write it atomically)
steers the answers:
  {"variant": "legacy", "power_watts": 344.0, "delay_s": 0.0, "malformed": false, "status": 0}
delay_s: sleep before answering; malformed: 200 with a truncated JSON body; status: when not 0, every
authenticated request gets this HTTP status with a Redfish error body (and, for a 3xx, a Location on
another host).

Listens on 127.0.0.1 on a port of its own choosing and writes the port to --port-file (atomically).
Appends "GET <path> <client port>" per request to --log when given. Exits when its parent goes away.
"""

import argparse
import base64
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHASSIS = "/redfish/v1/Chassis/1U"


def control(path):
    defaults = {"variant": "legacy", "power_watts": 344.0, "delay_s": 0.0, "malformed": False, "status": 0}
    try:
        with open(path, encoding="utf-8") as f:
            defaults.update(json.load(f))
    except (OSError, ValueError):
        pass
    return defaults


def collection(odata_id, odata_type, name, members):
    return {
        "@odata.type": odata_type,
        "@odata.id": odata_id,
        "Name": name,
        "Members@odata.count": len(members),
        "Members": [{"@odata.id": m} for m in members],
    }


def split_supplies(watts):
    first = round(watts * 0.55, 3)
    return first, watts - first


def resources(ctl):
    """The payloads of the variant, by path."""
    variant = ctl["variant"]
    watts = float(ctl["power_watts"])
    if watts == int(watts):
        watts = int(watts)  # 344, as BMCs write it, not 344.0
    links = {"Power": {"@odata.id": CHASSIS + "/Power"}}
    if variant in ("environment", "power-subsystem", "none"):
        links["EnvironmentMetrics"] = {"@odata.id": CHASSIS + "/EnvironmentMetrics"}
    if variant in ("environment", "power-subsystem"):
        links["PowerSubsystem"] = {"@odata.id": CHASSIS + "/PowerSubsystem"}
        links["Sensors"] = {"@odata.id": CHASSIS + "/Sensors"}

    r = {
        "/redfish/v1": {
            "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
            "@odata.id": "/redfish/v1",
            "Id": "RootService",
            "Name": "Root Service",
            "RedfishVersion": "1.15.0",
            "Chassis": {"@odata.id": "/redfish/v1/Chassis"},
            "Systems": {"@odata.id": "/redfish/v1/Systems"},
        },
        "/redfish/v1/Chassis": collection("/redfish/v1/Chassis", "#ChassisCollection.ChassisCollection",
                                          "Chassis Collection", [CHASSIS]),
        CHASSIS: dict({
            "@odata.type": "#Chassis.v1_21_0.Chassis",
            "@odata.id": CHASSIS,
            "Id": "1U",
            "Name": "Computer System Chassis",
            "ChassisType": "RackMount",
            "Manufacturer": "Contoso",
            "Model": "3500RX",
            "PowerState": "On",
            "Status": {"State": "Enabled", "Health": "OK"},
        }, **links),
    }

    legacy_watts = watts if variant in ("legacy", "environment") else None
    r[CHASSIS + "/Power"] = {
        "@odata.type": "#Power.v1_7_1.Power",
        "@odata.id": CHASSIS + "/Power",
        "Id": "Power",
        "Name": "Power",
        "PowerControl": [{
            "@odata.id": CHASSIS + "/Power#/PowerControl/0",
            "MemberId": "0",
            "Name": "System Input Power",
            "PowerConsumedWatts": legacy_watts,
            "PowerRequestedWatts": 800,
            "PowerAvailableWatts": 0,
            "PowerCapacityWatts": 800,
            "PowerAllocatedWatts": 800,
            "PowerMetrics": {"IntervalInMin": 30, "MinConsumedWatts": 271, "MaxConsumedWatts": 489,
                             "AverageConsumedWatts": 319},
            "PowerLimit": {"LimitInWatts": 500, "LimitException": "LogEventOnly", "CorrectionInMs": 50},
            "Status": {"State": "Enabled", "Health": "OK"},
        }],
        "PowerSupplies": [{
            "@odata.id": CHASSIS + "/Power#/PowerSupplies/0",
            "MemberId": "0",
            "Name": "Power Supply Bay",
            "PowerSupplyType": "AC",
            "LineInputVoltage": 120,
            "PowerCapacityWatts": 800,
            "LastPowerOutputWatts": 325,
            "Status": {"State": "Enabled", "Health": "Warning"},
        }],
    }

    environment = {
        "@odata.type": "#EnvironmentMetrics.v1_3_0.EnvironmentMetrics",
        "@odata.id": CHASSIS + "/EnvironmentMetrics",
        "Id": "EnvironmentMetrics",
        "Name": "Chassis Environment Metrics",
        "TemperatureCelsius": {"DataSourceUri": CHASSIS + "/Sensors/AmbientTemp", "Reading": 22.5},
        "HumidityPercent": {"DataSourceUri": CHASSIS + "/Sensors/Humidity", "Reading": 43.9},
    }
    if variant == "environment":
        environment["PowerWatts"] = {"DataSourceUri": CHASSIS + "/Sensors/TotalPower", "Reading": watts}
        environment["EnergykWh"] = {"DataSourceUri": CHASSIS + "/Sensors/TotalEnergy", "Reading": 325675}
    r[CHASSIS + "/EnvironmentMetrics"] = environment

    r[CHASSIS + "/Sensors"] = collection(CHASSIS + "/Sensors", "#SensorCollection.SensorCollection",
                                         "Chassis sensors", [CHASSIS + "/Sensors/TotalPower"])
    r[CHASSIS + "/Sensors/TotalPower"] = {
        "@odata.type": "#Sensor.v1_7_0.Sensor",
        "@odata.id": CHASSIS + "/Sensors/TotalPower",
        "Id": "TotalPower",
        "Name": "Total Power",
        "ReadingType": "Power",
        "Reading": watts,
        "ReadingUnits": "W",
        "SensingInterval": "PT0.25S",
        "PhysicalContext": "Chassis",
        "ElectricalContext": "Total",
        "Status": {"State": "Enabled", "Health": "OK"},
    }

    subsystem = CHASSIS + "/PowerSubsystem"
    r[subsystem] = {
        "@odata.type": "#PowerSubsystem.v1_1_0.PowerSubsystem",
        "@odata.id": subsystem,
        "Id": "PowerSubsystem",
        "Name": "Power Subsystem for Chassis",
        "CapacityWatts": 2000,
        "Allocation": {"RequestedWatts": 1500, "AllocatedWatts": 1200},
        "PowerSupplies": {"@odata.id": subsystem + "/PowerSupplies"},
        "Status": {"State": "Enabled", "Health": "OK"},
    }
    bays = ["Bay1", "Bay2", "Bay3"]
    r[subsystem + "/PowerSupplies"] = collection(subsystem + "/PowerSupplies",
                                                 "#PowerSupplyCollection.PowerSupplyCollection",
                                                 "Power Supply Collection",
                                                 [subsystem + "/PowerSupplies/" + b for b in bays])
    shares = split_supplies(watts)
    for i, bay in enumerate(bays):
        supply = subsystem + "/PowerSupplies/" + bay
        present = i < 2
        r[supply] = {
            "@odata.type": "#PowerSupply.v1_5_0.PowerSupply",
            "@odata.id": supply,
            "Id": bay,
            "Name": "Power Supply " + bay,
            "PowerSupplyType": "AC",
            "PowerCapacityWatts": 1000,
            "Status": {"State": "Enabled" if present else "Absent", "Health": "OK" if present else None},
        }
        if present:
            r[supply]["Metrics"] = {"@odata.id": supply + "/Metrics"}
            r[supply + "/Metrics"] = {
                "@odata.type": "#PowerSupplyMetrics.v1_1_0.PowerSupplyMetrics",
                "@odata.id": supply + "/Metrics",
                "Id": "Metrics",
                "Name": "Metrics for Power Supply " + bay,
                "InputVoltage": {"DataSourceUri": supply + "/Sensors/InputVoltage", "Reading": 230.2},
                "InputPowerWatts": {"DataSourceUri": supply + "/Sensors/InputPower",
                                    "Reading": shares[i] if variant == "power-subsystem" else 100},
                "OutputPowerWatts": {"DataSourceUri": supply + "/Sensors/OutputPower", "Reading": 90},
                "EnergykWh": {"DataSourceUri": supply + "/Sensors/Energy", "Reading": 1020},
            }
    return r


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a BMC does
    server_version = "FakeRedfish/1.0"
    timeout = 30

    def log_message(self, format, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        # Headers and body go out as two writes: without this, Nagle's algorithm holds the second back until
        # the client's delayed ACK (40 ms), which a BMC's web server does not do.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send_json(self, status, body, extra_headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("OData-Version", "4.0")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def authorised(self):
        expected = base64.b64encode(f"{self.server.user}:{self.server.password}".encode()).decode()
        return self.headers.get("Authorization", "") == "Basic " + expected

    def do_GET(self):
        ctl = control(self.server.control_path)
        if self.server.log_path:
            with open(self.server.log_path, "a", encoding="utf-8") as f:
                f.write(f"GET {self.path} {self.client_address[1]}\n")
        if float(ctl["delay_s"]) > 0:
            time.sleep(float(ctl["delay_s"]))
        if not self.authorised():
            self.send_json(401, error_body("Base.1.8.NoValidSession", "No valid session or credentials."),
                           [("WWW-Authenticate", 'Basic realm="FakeRedfish"')])
            return
        status = int(ctl["status"])
        if status:
            # A 3xx points at another host: a client that followed it would hand that host the credentials.
            extra = [("Location", "https://redirected.invalid" + self.path)] if 300 <= status < 400 else []
            self.send_json(status, error_body("Base.1.8.GeneralError", f"Forced status {status}."), extra)
            return
        path = self.path.split("?")[0].rstrip("/") or "/redfish/v1"
        body = resources(ctl).get(path)
        if body is None:
            self.send_json(404, error_body("Base.1.8.ResourceMissingAtURI", f"The resource at {path} was not found."))
            return
        if ctl["malformed"]:
            text = json.dumps(body).encode()
            self.send_json(200, text[: len(text) // 2])
            return
        self.send_json(200, body)


def error_body(message_id, message):
    return {"error": {"code": message_id, "message": message,
                      "@Message.ExtendedInfo": [{"MessageId": message_id, "Message": message}]}}


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's thread, not in the accept loop.
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # e.g. the client did not trust the certificate
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            return  # a client that went away (timed out) mid-response
        super().handle_error(request, client_address)


def watch_parent(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--control", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--log")
    args = parser.parse_args()

    with open(args.password_file, encoding="utf-8") as f:
        password = f.read().rstrip("\n")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)

    server = Server(("127.0.0.1", 0), Handler)
    server.ssl_context = context
    server.user = args.user
    server.password = password
    server.control_path = args.control
    server.log_path = args.log

    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{server.server_address[1]}\n")
    os.replace(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
