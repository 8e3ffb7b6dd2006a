#include "kassa/devices/device_flows.h"

#include <algorithm>
#include <memory>

#include "kassa/base/log.h"
#include "kassa/model/text.h"
#include "kassa/base/time_format.h"
#include "kassa/hal/escpos.h"

namespace kassa::devices {

const char* ToString(Event::Kind k) {
  switch (k) {
    case Event::Kind::kCustomerFound: return "customer_found";
    case Event::Kind::kUnknownCard: return "unknown_card";
    case Event::Kind::kSignedIn: return "signed_in";
    case Event::Kind::kBadgeRefused: return "badge_refused";
    case Event::Kind::kDeviceStatus: return "device_status";
    case Event::Kind::kReceiptPrinted: return "receipt_printed";
    case Event::Kind::kReceiptWaiting: return "receipt_waiting";
  }
  return "unknown";
}

Bytes RenderSignUpReceipt(const model::StoreConfig& store, const model::Customer& c, std::int64_t now_ms) {
  hal::escpos::Job job;
  job.Center(true).Bold(true).DoubleSize(true).Line(store.legal_entity).DoubleSize(false).Bold(false);
  job.Line("Store " + store.store_id).Line(FormatIsoTime(now_ms).substr(0, 16).replace(10, 1, " ")).Feed(1);
  job.Bold(true).Line("Welcome!").Bold(false).Line(model::DisplayName(c));
  job.Line("Customer no. " + (c.pending() ? std::string(model::kPendingSyncText) : c.account)).Feed(1);
  job.Center(false);
  if (!c.email.empty()) job.Line("Email: " + c.email);
  if (!c.phone.empty()) job.Line("Phone: " + c.phone);
  const auto consent = [&](const char* what, const std::string& value, const model::Consent& given) {
    job.Line(std::string(what) + " " + value + ": marketing " + (given.granted ? "yes" : "no") +
             (given.text_version.empty() ? "" : " (text " + given.text_version + ")"));
  };
  if (!c.email.empty() || !c.phone.empty() || !c.secondary_emails.empty() || !c.secondary_phones.empty()) {
    job.Line("Your consents:");
  }
  if (!c.email.empty()) consent("Email", c.email, c.email_consent);
  for (const auto& sc : c.secondary_emails) consent("Email", sc.value, sc.consent);
  if (!c.phone.empty()) consent("Phone", c.phone, c.phone_consent);
  for (const auto& sc : c.secondary_phones) consent("Phone", sc.value, sc.consent);
  for (const auto& card : c.loyalty_cards) job.Line("Loyalty card: " + card);
  job.Feed(3).Cut();
  return job.bytes();
}

DeviceFlows::DeviceFlows(customers::CustomerService& customers, Clock& clock, Devices devices, Publish publish,
                         BadgeSignIn on_badge, customers::AccessRecorder* access)
    : customers_(customers), access_(access), clock_(clock), devices_(devices), publish_(std::move(publish)),
      on_badge_(std::move(on_badge)) {}

Status DeviceFlows::Start() {
  if (devices_.scanner != nullptr) {
    KASSA_TRY(devices_.scanner->Start([this](const std::string& code) { OnCode("scanner", code); },
                                      [this](const hal::DeviceStatus& s) { OnStatus("scanner", s); }));
  }
  if (devices_.card_reader != nullptr) {
    KASSA_TRY(devices_.card_reader->Start(
        [this](const hal::CardSwipe& swipe) {
          if (swipe.kind == hal::CardSwipe::Kind::kBadge) {
            auto signed_in = on_badge_ ? on_badge_(swipe.number)
                                       : Result<std::string>(Status(StatusCode::kFailedPrecondition,
                                                                    "badge: badges do not sign in here"));
            if (!signed_in.ok()) {
              KASSA_LOG(kInfo) << "badge swipe refused: " << signed_in.status().detail();
              return publish_(Event{Event::Kind::kBadgeRefused, "card_reader", "", std::nullopt, {},
                                    signed_in.status().detail()});
            }
            return publish_(Event{Event::Kind::kSignedIn, "card_reader", "", std::nullopt, {}, *signed_in});
          }
          OnCode("card_reader", swipe.number);
        },
        [this](const hal::DeviceStatus& s) { OnStatus("card_reader", s); }));
  }
  if (devices_.display != nullptr) ShowIdleScreen();
  if (devices_.printer != nullptr) {
    KASSA_TRY(devices_.printer->Start([this](const hal::DeviceStatus& s) {
      OnStatus("printer", s);
      if (s.state == hal::DeviceStatus::State::kReady) PrintPending();
    }));
  }
  return Status::Ok();
}

void DeviceFlows::ShowIdleScreen() {
  const Status shown = devices_.display->Show(customers_.store_config().legal_entity, "Welcome");
  OnStatus("display", devices_.display->status());
  if (!shown.ok()) KASSA_LOG(kWarning) << "customer display: " << shown.detail();
}

void DeviceFlows::Stop() {
  if (devices_.scanner != nullptr) devices_.scanner->Stop();
  if (devices_.card_reader != nullptr) devices_.card_reader->Stop();
  if (devices_.printer != nullptr) devices_.printer->Stop();
}

void DeviceFlows::OnStatus(const std::string& device, const hal::DeviceStatus& status) {
  publish_(Event{Event::Kind::kDeviceStatus, device, "", std::nullopt, status, status.detail});
}

void DeviceFlows::OnCode(const std::string& device, const std::string& code) {
  // A loyalty card first (the usual scan), then an account number or id.
  std::optional<model::Customer> found;
  auto results = customers_.Search(code, 5);
  if (results.ok()) {
    for (auto& r : *results) {
      const bool card = r.matched == search::MatchedField::kLoyaltyCard &&
                        std::find(r.customer.loyalty_cards.begin(), r.customer.loyalty_cards.end(),
                                  model::AsciiUpper(code)) != r.customer.loyalty_cards.end();
      if (card) {
        found = std::move(r.customer);
        break;
      }
    }
  }
  if (!found) {
    if (auto c = customers_.Find(code); c.ok()) found = std::move(*c);
  }
  if (!found) {
    KASSA_LOG(kInfo) << device << ": unknown code (" << code.size() << " characters)";
    return publish_(Event{Event::Kind::kUnknownCard, device, code, std::nullopt, {}, ""});
  }
  if (access_ != nullptr) access_->Record(model::AccessAction::kOpened, "device:" + device, found->id);
  if (devices_.display != nullptr) {
    (void)devices_.display->Show("Welcome", model::DisplayName(*found));  // a missing display is only a status
  }
  publish_(Event{Event::Kind::kCustomerFound, device, code, std::move(found), {}, ""});
}

void DeviceFlows::PrintSignUpReceipt(std::string_view ref, Done done) {
  if (devices_.printer == nullptr) {
    return done(Status(StatusCode::kFailedPrecondition, "printer: no receipt printer is fitted to this terminal"));
  }
  auto customer = customers_.Find(ref);
  if (!customer.ok()) return done(customer.status());
  const Bytes job = RenderSignUpReceipt(customers_.store_config(), *customer, clock_.NowMs());
  auto c = std::make_shared<model::Customer>(std::move(*customer));
  const Status accepted = devices_.printer->Print(job, [this, c, done](Status printed) {
    if (printed.ok()) {
      publish_(Event{Event::Kind::kReceiptPrinted, "printer", "", *c, {}, ""});
    } else {
      waiting_receipt_ = *c;
      publish_(Event{Event::Kind::kReceiptWaiting, "printer", "", *c, {}, printed.detail()});
    }
    done(printed);
  });
  if (!accepted.ok()) {
    if (accepted.code() == StatusCode::kUnavailable) {
      waiting_receipt_ = *c;
      publish_(Event{Event::Kind::kReceiptWaiting, "printer", "", *c, {}, accepted.detail()});
    }
    done(accepted);
  }
}

void DeviceFlows::PrintPending() {
  if (!waiting_receipt_) return;
  const model::Customer c = std::move(*waiting_receipt_);
  waiting_receipt_.reset();
  KASSA_LOG(kInfo) << "printer is back: printing the waiting receipt";
  // The number may have arrived meanwhile: print what the customer is now.
  PrintSignUpReceipt(c.id.ToHex(), [](Status) {});
}

std::map<std::string, hal::DeviceStatus> DeviceFlows::Statuses() const {
  std::map<std::string, hal::DeviceStatus> out;
  if (devices_.scanner != nullptr) out["scanner"] = devices_.scanner->status();
  if (devices_.card_reader != nullptr) out["card_reader"] = devices_.card_reader->status();
  if (devices_.printer != nullptr) out["printer"] = devices_.printer->status();
  if (devices_.display != nullptr) out["display"] = devices_.display->status();
  return out;
}

}  // namespace kassa::devices
