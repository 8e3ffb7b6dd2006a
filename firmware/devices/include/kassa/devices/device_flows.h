#pragma once

// DeviceFlows: what the terminal does when its peripherals speak.
//   - A scan, or a swipe of a loyalty card, looks the code up (loyalty card,
//     then account number) and publishes the customer found, or an unknown
//     card the UI can offer to attach to a new customer. The customer display
//     greets the customer found.
//   - A badge swipe signs the operator in server-side (`on_badge`); the
//     event published says only who signed in, or that the badge was
//     refused: the badge number never leaves kassad.
//   - A sign-up receipt (store header, name, account number or "Pending
//     sync", the consents captured) prints on request; when the printer goes
//     away mid-receipt, the receipt waits and prints again as soon as the
//     printer reports ready.
//   - The customer display shows an idle screen from the start, and greets
//     the customer a scan or swipe found.
//   - Every status change of a device is published.
//
// Threading: the service's executor only.

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "kassa/customers/access_recorder.h"
#include "kassa/customers/customer_service.h"
#include "kassa/hal/barcode_scanner.h"
#include "kassa/hal/card_reader.h"
#include "kassa/hal/customer_display.h"
#include "kassa/hal/receipt_printer.h"

namespace kassa::devices {

// The peripherals fitted to this terminal; null where one is not.
struct Devices {
  hal::BarcodeScanner* scanner = nullptr;
  hal::CardReader* card_reader = nullptr;
  hal::ReceiptPrinter* printer = nullptr;
  hal::CustomerDisplay* display = nullptr;
};

struct Event {
  enum class Kind {
    kCustomerFound,   // `code` (scanned or swiped) found `customer`
    kUnknownCard,     // `code` matches no customer: offer to create one with it
    kSignedIn,        // a badge swipe signed in the operator named in `detail` (never the badge)
    kBadgeRefused,    // a badge swipe signed nobody in; `detail` says why
    kDeviceStatus,    // `device` changed to `status`
    kReceiptPrinted,  // the receipt of `customer` printed
    kReceiptWaiting,  // it could not print (`detail`); it prints when the printer is back
  };
  Kind kind;
  std::string device;  // "scanner", "card_reader", "printer", "display"
  std::string code;
  std::optional<model::Customer> customer;
  hal::DeviceStatus status;
  std::string detail;
};
const char* ToString(Event::Kind k);  // "customer_found", "unknown_card", ...

// The ESC/POS bytes of a sign-up receipt.
Bytes RenderSignUpReceipt(const model::StoreConfig& store, const model::Customer& customer, std::int64_t now_ms);

class DeviceFlows {
 public:
  using Publish = std::function<void(const Event&)>;
  using Done = std::function<void(Status)>;
  // Signs in with a swiped badge; the operator's name, or why not.
  using BadgeSignIn = std::function<Result<std::string>(const std::string& badge)>;

  // REQUIRES: `customers`, the devices, `clock` and `access` (when given)
  // outlive the flows. A customer a scan or swipe finds is recorded in
  // `access` as opened by "device:NAME" (its name shows on the customer
  // display and on the signed-in screens).
  DeviceFlows(customers::CustomerService& customers, Clock& clock, Devices devices, Publish publish,
              BadgeSignIn on_badge, customers::AccessRecorder* access = nullptr);

  // Starts listening to every fitted device.
  // Returns: kOk; the first device's failure to start.
  Status Start();
  void Stop();

  // Prints the sign-up receipt of customer `ref` (account number or id).
  // `done` runs once: kOk printed; kNotFound; kFailedPrecondition "printer:
  // ..." when no printer is fitted; kUnavailable when the printer is not
  // ready (the receipt then waits and prints when it is).
  void PrintSignUpReceipt(std::string_view ref, Done done);

  // Each fitted device's status, by name.
  std::map<std::string, hal::DeviceStatus> Statuses() const;

 private:
  void OnCode(const std::string& device, const std::string& code);
  void OnStatus(const std::string& device, const hal::DeviceStatus& status);
  void PrintPending();
  void ShowIdleScreen();

  customers::CustomerService& customers_;
  customers::AccessRecorder* access_;
  Clock& clock_;
  Devices devices_;
  Publish publish_;
  BadgeSignIn on_badge_;
  std::optional<model::Customer> waiting_receipt_;  // printed when the printer is ready again
};

}  // namespace kassa::devices
