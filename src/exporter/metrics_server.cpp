// HTTP serving of the snapshots with cpp-httplib.
#include "exporter/metrics_server.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace wattprint::exporter {

namespace {

constexpr const char* kIndex =
    "wattprint exporter: energy and CO2 of this node and of its jobs, for Prometheus.\n"
    "GET /metrics  Prometheus text format 0.0.4, or OpenMetrics 1.0 when the Accept header asks for it\n"
    "Values change once per sample (--interval), never on a scrape. Nothing here changes state.\n";

/// Why binding `address` fails, from the kernel (the server library does not say).
std::string bind_error(const ListenAddress& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  const int resolved = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (resolved != 0) return fmt::format("cannot resolve {}: {}", address.host, ::gai_strerror(resolved));
  std::string error = "unknown error";
  const int fd = ::socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (fd < 0) {
    error = std::strerror(errno);
  } else {
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0) error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return error;
}

}  // namespace

std::string ListenAddress::text() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

ListenAddress parse_listen_address(const std::string& option, const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return UsageError(
        fmt::format("{} {}: {}; give HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464", option, text, why));
  };
  ListenAddress address;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw bad("an IPv6 address goes in brackets followed by :PORT");
    address.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos) throw bad("no port");
    address.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (address.host.find(':') != std::string::npos) throw bad("an IPv6 address goes in brackets");
  }
  if (address.host.empty()) throw bad("no host");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    throw bad("the port is not a number");
  address.port = std::stoi(port);
  if (address.port > 65535) throw bad("the port is above 65535");
  return address;
}

MetricsResponse metrics_response(const Snapshot& snapshot, const std::string& accept) {
  const ExpositionFormat format = format_for_accept(accept);
  return {format == ExpositionFormat::OpenMetrics100 ? snapshot.openmetrics : snapshot.prometheus,
          content_type(format)};
}

struct MetricsServer::Impl {
  httplib::Server server;
  SnapshotSource snapshots;
};

MetricsServer::MetricsServer(SnapshotSource snapshots, std::size_t threads)
    : impl_(std::make_unique<Impl>()) {
  impl_->snapshots = std::move(snapshots);
  httplib::Server& server = impl_->server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_max_count(100);
  server.set_read_timeout(std::chrono::seconds(10));
  server.set_write_timeout(std::chrono::seconds(10));
  server.set_payload_max_length(std::size_t{64} * 1024);
  Impl* impl = impl_.get();
  // GET handlers also answer HEAD (the library sends the headers without the body).
  server.Get("/metrics", [impl](const httplib::Request& request, httplib::Response& response) {
    const std::shared_ptr<const Snapshot> snapshot = impl->snapshots();
    if (!snapshot) {
      response.status = 503;
      response.set_content("no sample yet\n", "text/plain; charset=utf-8");
      return;
    }
    MetricsResponse out = metrics_response(*snapshot, request.get_header_value("Accept"));
    response.set_content(out.body, out.content_type);
  });
  server.Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(kIndex, "text/plain; charset=utf-8");
  });
  const auto not_allowed = [](const httplib::Request&, httplib::Response& response) {
    response.status = 405;
    response.set_header("Allow", "GET, HEAD");
    response.set_content("405 method not allowed: this exporter is read-only (GET, HEAD)\n",
                         "text/plain; charset=utf-8");
  };
  server.Post(".*", not_allowed);
  server.Put(".*", not_allowed);
  server.Patch(".*", not_allowed);
  server.Delete(".*", not_allowed);
  server.Options(".*", not_allowed);
  server.set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (response.status == 404)
      response.set_content("404 not found: see / and /metrics\n", "text/plain; charset=utf-8");
  });
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::bind(const ListenAddress& address) {
  if (!impl_->server.bind_to_port(address.host, address.port)) {
    impl_->server.stop();
    throw UsageError(
        fmt::format("cannot listen on {}: {}; stop what uses it or pick another address with "
                    "--listen HOST:PORT",
                    address.text(), bind_error(address)));
  }
}

void MetricsServer::serve() { impl_->server.listen_after_bind(); }

void MetricsServer::stop() { impl_->server.stop(); }

}  // namespace wattprint::exporter
