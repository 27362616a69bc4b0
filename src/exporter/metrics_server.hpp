// The exporter's HTTP side: GET/HEAD /metrics (the latest snapshot, never a new sample), GET / (an index);
// anything else 404, other methods 405. Read-only, a bounded thread pool.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "exporter/node_sampler.hpp"

namespace wattprint::exporter {

struct ListenAddress {
  std::string host;  ///< "127.0.0.1", "::1", "0.0.0.0"
  int port = 0;
  [[nodiscard]] std::string text() const;  ///< "127.0.0.1:9464", "[::1]:9464"
};

/// Parses "HOST:PORT" or "[IPv6]:PORT"; throws UsageError naming `option` when malformed.
ListenAddress parse_listen_address(const std::string& option, const std::string& text);

/// The body of a GET /metrics for a request with this Accept header (and the Content-Type to send).
struct MetricsResponse {
  std::string body;
  std::string content_type;
};
MetricsResponse metrics_response(const Snapshot& snapshot, const std::string& accept);

class MetricsServer {
 public:
  using SnapshotSource = std::function<std::shared_ptr<const Snapshot>()>;
  MetricsServer(SnapshotSource snapshots, std::size_t threads);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  /// Binds the socket. Throws UsageError with the remedy when the address cannot be used.
  void bind(const ListenAddress& address);
  /// Serves until stop() (blocks).
  void serve();
  /// Makes serve() return (any thread).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattprint::exporter
