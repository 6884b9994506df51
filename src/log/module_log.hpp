// module_log(): the logger of the library this file is compiled into, named
// by ALLSCENE_MODULE ("broker", "services.travel", …; allscene_library() in
// the top CMakeLists.txt sets it), so that every line names its module and
// `[log] modules` can give a module its own level (docs/configuration.md).
//
// Created on first use from the default logger (sinks, pattern) and
// registered with spdlog, which gives it the level configured for its name.
// Any thread.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

#ifndef ALLSCENE_MODULE
#define ALLSCENE_MODULE "allscene"
#endif

namespace allscene {
namespace {  // one logger pointer per file: ALLSCENE_MODULE differs by library

inline spdlog::logger& module_log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get(ALLSCENE_MODULE)) return existing;
    auto created = spdlog::default_logger()->clone(ALLSCENE_MODULE);
    try {
      spdlog::initialize_logger(created);
    } catch (const spdlog::spdlog_ex&) {
      return spdlog::get(ALLSCENE_MODULE);  // another file of the module was first
    }
    return created;
  }();
  return *logger;
}

}  // namespace
}  // namespace allscene
