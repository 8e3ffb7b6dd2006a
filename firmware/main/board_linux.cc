#include <boost/json.hpp>
#include <algorithm>

#include "kassa/base/log.h"

#include "boards.h"
#include "kassa/config/store_config_json.h"
#include "kassa/hal/lnx/devices.h"

namespace kassa::boards {
namespace json = boost::json;
using hal::lnx::InputConfig;
using hal::lnx::PrinterConfig;

namespace {

struct DeviceFile {
  std::optional<InputConfig> scanner;
  std::optional<InputConfig> card_reader;
  std::string badge_prefix;
  std::optional<PrinterConfig> printer;
  std::optional<InputConfig> display;
  std::string key_file;
};

Status ReadBaud(const json::object& o, const std::string& where, unsigned& baud, std::string& field) {
  const json::value* v = o.if_contains("baud");
  if (v == nullptr) return Status::Ok();
  static constexpr unsigned kBauds[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200};
  if (!v->is_int64() || std::find(std::begin(kBauds), std::end(kBauds), v->get_int64()) == std::end(kBauds)) {
    return InvalidAt(field, where + "baud", "one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200");
  }
  baud = static_cast<unsigned>(v->get_int64());
  return Status::Ok();
}

Status ReadInput(const json::value& v, const std::string& name, bool evdev_allowed, InputConfig& out,
                 std::string* badge_prefix, std::string& field) {
  const std::string where = name + ".";
  if (!v.is_object()) return InvalidAt(field, name, "must be an object");
  const json::object& o = v.get_object();
  KASSA_TRY(config::CheckMembers(o, {"transport", "path", "baud", "badge_prefix", "grab"}, where, field));
  std::string transport;
  KASSA_TRY(config::ReadString(o, "transport", where, transport, true, field));
  if (transport == "serial") {
    out.transport = InputConfig::Transport::kSerial;
  } else if (transport == "evdev" && evdev_allowed) {
    out.transport = InputConfig::Transport::kEvdev;
  } else {
    return InvalidAt(field, where + "transport", evdev_allowed ? "must be serial or evdev" : "must be serial");
  }
  KASSA_TRY(config::ReadString(o, "path", where, out.path, true, field));
  KASSA_TRY(ReadBaud(o, where, out.baud, field));
  if (const json::value* grab = o.if_contains("grab")) {
    if (out.transport != InputConfig::Transport::kEvdev) return InvalidAt(field, where + "grab", "evdev devices only");
    if (!grab->is_bool()) return InvalidAt(field, where + "grab", "must be true or false");
    out.grab = grab->get_bool();
  }
  if (badge_prefix != nullptr) {
    KASSA_TRY(config::ReadString(o, "badge_prefix", where, *badge_prefix, false, field));
  } else if (o.contains("badge_prefix")) {
    return InvalidAt(field, where + "badge_prefix", "unknown member");
  }
  return Status::Ok();
}

Status ReadPrinter(const json::value& v, PrinterConfig& out, std::string& field) {
  if (!v.is_object()) return InvalidAt(field, "printer", "must be an object");
  const json::object& o = v.get_object();
  KASSA_TRY(config::CheckMembers(o, {"transport", "host", "port", "path", "baud"}, "printer.", field));
  std::string transport;
  KASSA_TRY(config::ReadString(o, "transport", "printer.", transport, true, field));
  if (transport == "tcp") {
    out.transport = PrinterConfig::Transport::kTcp;
    KASSA_TRY(config::ReadString(o, "host", "printer.", out.host, true, field));
    if (const json::value* port = o.if_contains("port")) {
      if (!port->is_int64() || port->get_int64() < 1 || port->get_int64() > 65535) {
        return InvalidAt(field, "printer.port", "a TCP port, 1 to 65535");
      }
      out.port = static_cast<std::uint16_t>(port->get_int64());
    }
  } else if (transport == "serial" || transport == "usb") {
    out.transport = transport == "serial" ? PrinterConfig::Transport::kSerial : PrinterConfig::Transport::kUsb;
    KASSA_TRY(config::ReadString(o, "path", "printer.", out.path, true, field));
    KASSA_TRY(ReadBaud(o, "printer.", out.baud, field));
  } else {
    return InvalidAt(field, "printer.transport", "must be tcp, serial or usb");
  }
  return Status::Ok();
}

Status ParseDeviceFile(const json::value& root, DeviceFile& out, std::string& field) {
  if (!root.is_object()) return InvalidAt(field, "", "must hold a JSON object");
  const json::object& o = root.get_object();
  KASSA_TRY(config::CheckMembers(o, {"scanner", "card_reader", "printer", "display", "key_file"}, "", field));
  if (const json::value* v = o.if_contains("scanner")) {
    out.scanner.emplace();
    KASSA_TRY(ReadInput(*v, "scanner", true, *out.scanner, nullptr, field));
  }
  if (const json::value* v = o.if_contains("card_reader")) {
    out.card_reader.emplace();
    KASSA_TRY(ReadInput(*v, "card_reader", true, *out.card_reader, &out.badge_prefix, field));
  }
  if (const json::value* v = o.if_contains("printer")) {
    out.printer.emplace();
    KASSA_TRY(ReadPrinter(*v, *out.printer, field));
  }
  if (const json::value* v = o.if_contains("display")) {
    out.display.emplace();
    KASSA_TRY(ReadInput(*v, "display", false, *out.display, nullptr, field));
  }
  return config::ReadString(o, "key_file", "", out.key_file, false, field);
}

std::string Describe(const char* what, const InputConfig& c) {
  return std::string(what) + (c.transport == InputConfig::Transport::kSerial ? " serial " : " evdev ") + c.path;
}

}  // namespace

Result<service::BoardFactory> LinuxBoard(const std::string& device_file, std::string& key_file) {
  json::value root;
  DeviceFile file;
  KASSA_TRY(config::ReadJsonFile(device_file, root));
  std::string field;
  if (const Status s = ParseDeviceFile(root, file, field); !s.ok()) {
    config::LogInvalid(device_file, field, s);
    return Status(StatusCode::kInvalidArgument, "devices: the device file is not valid (see log)");
  }
  key_file = file.key_file;
  return service::BoardFactory([file](boost::asio::any_io_executor executor) -> Result<service::Board> {
    service::Board b;
    std::vector<std::string> parts;
    if (file.scanner) {
      KASSA_TRY_ASSIGN(b.scanner, hal::lnx::OpenScanner(executor, *file.scanner));
      parts.push_back(Describe("scanner", *file.scanner));
    }
    if (file.card_reader) {
      KASSA_TRY_ASSIGN(b.card_reader, hal::lnx::OpenCardReader(executor, *file.card_reader, file.badge_prefix));
      parts.push_back(Describe("card reader", *file.card_reader));
    }
    if (file.printer) {
      KASSA_TRY_ASSIGN(b.printer, hal::lnx::OpenPrinter(executor, *file.printer));
      parts.push_back(file.printer->transport == PrinterConfig::Transport::kTcp
                          ? "printer tcp " + file.printer->host + ":" + std::to_string(file.printer->port)
                          : "printer " + file.printer->path);
    }
    if (file.display) {
      KASSA_TRY_ASSIGN(b.display, hal::lnx::OpenDisplay(executor, *file.display));
      parts.push_back(Describe("display", *file.display));
    }
    b.network = hal::lnx::OpenNetworkMonitor(executor);
    b.description = "linux:";
    for (const auto& p : parts) b.description += " " + p + ";";
    if (parts.empty()) b.description += " no peripherals";
    return b;
  });
}

}  // namespace kassa::boards
