#include "ops_commands.hpp"

#include <fmt/format.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "admin_client.hpp"
#include "store/backup.hpp"

namespace allscene::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void print_progress(const store::CopiedFile& f, std::size_t done, std::size_t total) {
  fmt::print(stderr, "[{}/{}] {} ({} bytes{})\n", done, total, f.path, f.bytes,
             f.database ? ", database" : "");
}

// The metrics `status` shows: every sample of a name summed over its
// labels (histogram buckets are not wanted here, only _sum and _count).
std::map<std::string, double> metric_totals(const std::string& text) {
  std::map<std::string, double> totals;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.starts_with('#')) continue;
    const auto name_end = line.find_first_of("{ ");
    const auto value_start = line.rfind(' ');
    if (name_end == std::string::npos || value_start == std::string::npos) continue;
    try {
      totals[line.substr(0, name_end)] += std::stod(line.substr(value_start + 1));
    } catch (const std::exception&) {
      // not a number (NaN spelled otherwise): not shown
    }
  }
  return totals;
}

double mean_ms(const std::map<std::string, double>& m, const std::string& histogram) {
  const auto count = m.count(histogram + "_count") ? m.at(histogram + "_count") : 0;
  return count > 0 ? 1000 * m.at(histogram + "_sum") / count : 0;
}

}  // namespace

OpsCommands::OpsCommands(CLI::App& app) {
  backup_ = app.add_subcommand(
      "backup", "Copy the data directory to DEST, consistently, while the hub runs or not");
  backup_->add_option("dest", path_, "A new or empty folder for the backup")->required();
  restore_ = app.add_subcommand(
      "restore", "Put a backup in place of the data directory's files (stop the hub first)");
  restore_->add_option("backup", path_, "A folder made by `allscene backup`")->required();
  status_ = app.add_subcommand("status", "How the running hub is: readiness and its main figures");
  status_->add_flag("--json", json_, "Print the figures as JSON, for scripts");
  for (auto* c : {backup_, restore_, status_}) {
    c->add_option("--data-dir", data_dir_, "The hub's data directory")->default_str(data_dir_);
  }
}

bool OpsCommands::chosen() const {
  return backup_->parsed() || restore_->parsed() || status_->parsed();
}

int OpsCommands::run() {
  if (backup_->parsed()) return backup();
  if (restore_->parsed()) return restore();
  return status();
}

int OpsCommands::backup() {
  const auto files = store::backup_data_dir(data_dir_, path_, print_progress);
  std::uint64_t bytes = 0;
  for (const auto& f : files) bytes += f.bytes;
  fmt::print(
      "backed up {} files ({} bytes) of {} to {}; restore with `allscene restore {} "
      "--data-dir DIR` while the hub is stopped\n",
      files.size(), bytes, data_dir_, path_, path_);
  return 0;
}

int OpsCommands::restore() {
  if (hub_running(data_dir_)) {
    std::cerr << fmt::format(
        "allscene: a hub is running on {}; stop it first (SIGTERM, or systemctl stop "
        "allscene), then restore\n",
        data_dir_);
    return 1;
  }
  fs::path replaced;
  const auto files = store::restore_data_dir(path_, data_dir_, replaced, print_progress);
  fmt::print("restored {} files from {} into {}\n", files.size(), path_, data_dir_);
  if (!replaced.empty()) fmt::print("the files it replaced are in {}\n", replaced.string());
  return 0;
}

int OpsCommands::status() {
  const auto client = AdminClient::for_data_dir(data_dir_);
  if (!client) {
    std::cerr << fmt::format(
        "allscene: no hub with an admin endpoint is running on {}; start one with `allscene "
        "hub --data-dir {}`\n",
        data_dir_, data_dir_);
    return 1;
  }
  const auto ready = client->send({"GET", "/readyz", {}, {}});
  const auto metrics = client->send({"GET", "/metrics", {}, {}});
  if (metrics.status != 200) {
    std::cerr << fmt::format("allscene: /metrics answered {}: {}\n", metrics.status, metrics.body);
    return 1;
  }
  const auto m = metric_totals(metrics.body);
  const auto get = [&m](const char* name) { return m.count(name) ? m.at(name) : 0.0; };
  const json figures{{"url", client->url()},
                     {"ready", ready.status == 200},
                     {"readiness", ready.body},
                     {"uptime_seconds", get("allscene_uptime_seconds")},
                     {"connections", get("allscene_connections")},
                     {"devices", get("allscene_devices")},
                     {"devices_connected", get("allscene_devices_connected")},
                     {"messages_received", get("allscene_messages_received_total")},
                     {"messages_sent", get("allscene_messages_sent_total")},
                     {"messages_dropped", get("allscene_messages_dropped_total")},
                     {"queued_messages", get("allscene_queued_messages")},
                     {"store_commits", get("allscene_store_commits_total")},
                     {"store_commit_mean_ms", mean_ms(m, "allscene_store_commit_seconds")},
                     {"service_requests", get("allscene_service_requests_total")}};
  if (json_) {
    std::cout << figures.dump() << "\n";
  } else {
    fmt::print("hub        {} ({})\n", client->url(), ready.status == 200 ? "ready" : ready.body);
    fmt::print("uptime     {:.0f} s\n", get("allscene_uptime_seconds"));
    fmt::print("clients    {:.0f} connections; devices {:.0f} online of {:.0f}\n",
               get("allscene_connections"), get("allscene_devices_connected"),
               get("allscene_devices"));
    fmt::print("messages   {:.0f} in, {:.0f} out, {:.0f} dropped, {:.0f} queued\n",
               get("allscene_messages_received_total"), get("allscene_messages_sent_total"),
               get("allscene_messages_dropped_total"), get("allscene_queued_messages"));
    fmt::print("store      {:.0f} commits, {:.2f} ms each on average\n",
               get("allscene_store_commits_total"), mean_ms(m, "allscene_store_commit_seconds"));
    fmt::print("services   {:.0f} requests\n", get("allscene_service_requests_total"));
  }
  return ready.status == 200 ? 0 : 1;
}

}  // namespace allscene::app
