// Whole-server power through wattprintd (src/daemon) when the local BMC is root-only (/dev/ipmi0 is
// root:root 0600) or its network password is the administrator's: the meter the daemon reads (SERVER, once),
// its latest reading on every read (POWER), over the daemon's Unix socket.
#pragma once

#include <filesystem>

#include "core/units.hpp"
#include "sources/server/server_power_source.hpp"

namespace wattprint {

/// Asks the daemon at `socket` which meter it reads. status.name "wattprintd.server", status.path the socket:
/// Ok with the source; Absent when no daemon listens there, when it reads no meter (its reason) or is too
/// old to serve one; Unreadable when it refuses this user (with the remedy). Each answer is awaited at most
/// `timeout`. The source's family() is the daemon's meter's ("ipmi-dcmi", ...), its origin() "wattprintd
/// SOCKET: " and the daemon's origin; a read that loses the connection fails and the next one reconnects.
OpenedServerSource open_daemon_server_source(const std::filesystem::path& socket, Seconds timeout);

}  // namespace wattprint
