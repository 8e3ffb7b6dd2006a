// HAL protocol code (card tracks, ESC/POS), the simulated backends, and the
// Linux key store, network monitor and watchdog against real files and sockets.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "kassa/hal/card_track.h"
#include "kassa/hal/escpos.h"
#include "kassa/hal/lnx/devices.h"
#include "kassa/hal/lnx/keymap.h"
#include "kassa/hal/sim/sim_devices.h"
#include "temp_dir.h"

namespace kassa::hal {
namespace {

TEST(CardTrackTest, Track2Track1AndKeyboardNfc) {
  auto t2 = ParseCardTrack(";6012345678=2512101?", "EMP");
  ASSERT_TRUE(t2.has_value());
  EXPECT_EQ(t2->number, "6012345678");
  EXPECT_EQ(t2->kind, CardSwipe::Kind::kLoyaltyCard);
  auto t1 = ParseCardTrack("%B6012345678^OZOLINA/LIGA              ^2512101?;6012345678=2512101?", "EMP");
  ASSERT_TRUE(t1.has_value());
  EXPECT_EQ(t1->number, "6012345678");
  EXPECT_EQ(t1->name, "OZOLINA/LIGA");
  auto nfc = ParseCardTrack("04a2b3c4d5\r\n", "EMP");
  ASSERT_TRUE(nfc.has_value());
  EXPECT_EQ(nfc->number, "04A2B3C4D5");
  auto badge = ParseCardTrack(";EMP0042?", "EMP");
  ASSERT_TRUE(badge.has_value());
  EXPECT_EQ(badge->kind, CardSwipe::Kind::kBadge);
  EXPECT_EQ(badge->number, "EMP0042");
}

TEST(CardTrackTest, MisreadsAreRefused) {
  EXPECT_FALSE(ParseCardTrack(";60123", "").has_value());        // no end sentinel
  EXPECT_FALSE(ParseCardTrack("%B6012^", "").has_value());        // truncated track 1
  EXPECT_FALSE(ParseCardTrack("", "").has_value());
  EXPECT_FALSE(ParseCardTrack("not a card!", "").has_value());
  EXPECT_FALSE(ParseCardTrack(std::string(40, '1'), "").has_value());  // longer than a card number
}

// What a keyboard-wedge card reader types for ";6012=25?" and a scanner for
// "LC-1001", key code by key code.
TEST(KeymapTest, TrackAndBarcodeCharacters) {
  struct Key {
    unsigned code;
    bool shift;
  };
  const auto type = [](std::initializer_list<Key> keys) {
    std::string out;
    for (const Key& k : keys) {
      const char c = lnx::KeyToChar(k.code, k.shift);
      if (c != '\0') out += c;
    }
    return out;
  };
  // KEY_SEMICOLON 39, KEY_6 7, KEY_0 11, KEY_1 2, KEY_2 3, KEY_EQUAL 13, KEY_5 6, KEY_SLASH 53
  EXPECT_EQ(type({{39, false}, {7, false}, {11, false}, {2, false}, {3, false}, {13, false}, {3, false},
                  {6, false}, {53, true}}),
            ";6012=25?");
  // KEY_L 38, KEY_C 46, KEY_MINUS 12; shift for capitals; KEY_5 with shift is '%'.
  EXPECT_EQ(type({{38, true}, {46, true}, {12, false}, {2, false}, {11, false}, {11, false}, {2, false}}), "LC-1001");
  EXPECT_EQ(lnx::KeyToChar(6, true), '%');
  EXPECT_EQ(lnx::KeyToChar(7, true), '^');
  EXPECT_EQ(lnx::KeyToChar(28, false), '\0');   // Enter types nothing: it ends the record
  EXPECT_EQ(lnx::KeyToChar(42, false), '\0');   // left shift
  EXPECT_EQ(lnx::KeyToChar(300, false), '\0');  // beyond the map
}

TEST(EscPosTest, JobBytesAndAsciiFold) {
  EXPECT_EQ(escpos::AsciiFold("Līga Ozoliņa, Åsa Öberg, Straße"), "Liga Ozolina, Asa Oberg, Strasse");
  EXPECT_EQ(escpos::AsciiFold("王伟"), "??");
  const Bytes job = escpos::Job().Center(true).Bold(true).Line("Līga").Cut().bytes();
  const Bytes expected = {0x1B, '@', 0x1B, 'a', 1, 0x1B, 'E', 1, 'L', 'i', 'g', 'a', '\n', 0x1D, 'V', 66, 0};
  EXPECT_EQ(job, expected);
  EXPECT_EQ(escpos::StatusRequest(4), (Bytes{0x10, 0x04, 0x04}));
}

TEST(EscPosTest, StatusAnswers) {
  EXPECT_EQ(escpos::InterpretStatus(0x12, 0x12).state, DeviceStatus::State::kReady);
  EXPECT_EQ(escpos::InterpretStatus(0x16, 0x12).detail, "cover open");
  EXPECT_EQ(escpos::InterpretStatus(0x12, 0x72).detail, "paper out");
  EXPECT_EQ(escpos::InterpretStatus(0x32, 0x12).detail, "paper out");
  EXPECT_EQ(escpos::InterpretStatus(0x52, 0x12).detail, "printer error");
  EXPECT_EQ(escpos::InterpretStatus(0x12, 0x1E).detail, "paper low");
}

// Runs what is ready. poll() leaves the context stopped once it runs out of
// work, so every round restarts it first.
void Drain(boost::asio::io_context& io) {
  io.restart();
  io.poll();
}

TEST(SimDevicesTest, EventsArePostedNeverInline) {
  boost::asio::io_context io;
  sim::SimBarcodeScanner scanner(io.get_executor());
  std::vector<std::string> scans;
  std::vector<DeviceStatus> statuses;
  ASSERT_TRUE(scanner.Start([&](const std::string& c) { scans.push_back(c); },
                            [&](const DeviceStatus& s) { statuses.push_back(s); }).ok());
  EXPECT_EQ(scanner.Start([](const std::string&) {}, [](const DeviceStatus&) {}).code(),
            StatusCode::kFailedPrecondition);
  scanner.Inject("LC-1001");
  EXPECT_TRUE(scans.empty());  // not inside Inject
  Drain(io);
  EXPECT_EQ(scans, std::vector<std::string>{"LC-1001"});
  scanner.Unplug();
  scanner.Inject("LOST");  // unplugged: nothing arrives
  Drain(io);
  EXPECT_EQ(scans.size(), 1u);
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].state, DeviceStatus::State::kDisconnected);
  scanner.Plug();
  Drain(io);
  EXPECT_EQ(statuses.back().state, DeviceStatus::State::kReady);
}

TEST(SimDevicesTest, PrinterFaultsAndFailedJobs) {
  boost::asio::io_context io;
  sim::SimReceiptPrinter printer(io.get_executor());
  ASSERT_TRUE(printer.Start([](const DeviceStatus&) {}).ok());
  const Bytes job = escpos::Job().Line("x").bytes();
  EXPECT_EQ(printer.Print(Bytes{}, [](Status) {}).code(), StatusCode::kInvalidArgument);
  Status result(StatusCode::kUnknown, "not called");
  printer.FailNextJob(Status(StatusCode::kUnavailable, "printer: went away"));
  ASSERT_TRUE(printer.Print(job, [&](Status s) { result = s; }).ok());
  Drain(io);
  EXPECT_EQ(result.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(printer.printed_jobs().empty());
  printer.PaperOut();
  EXPECT_EQ(printer.Print(job, [](Status) {}).code(), StatusCode::kUnavailable);
  printer.Plug();
  ASSERT_TRUE(printer.Print(job, [&](Status s) { result = s; }).ok());
  Drain(io);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(printer.printed_jobs().size(), 1u);
}

TEST(SimDevicesTest, CardReaderParsesAndDropsMisreads) {
  boost::asio::io_context io;
  sim::SimCardReader reader(io.get_executor(), "EMP");
  std::vector<CardSwipe> swipes;
  ASSERT_TRUE(reader.Start([&](const CardSwipe& s) { swipes.push_back(s); }, [](const DeviceStatus&) {}).ok());
  EXPECT_TRUE(reader.Inject(";EMP7=1?"));
  EXPECT_FALSE(reader.Inject(";garbled"));
  Drain(io);
  ASSERT_EQ(swipes.size(), 1u);
  EXPECT_EQ(swipes[0].kind, CardSwipe::Kind::kBadge);
}


TEST(LinuxNetworkMonitorTest, ReportsTheLinkFromOperstateIgnoringLoopback) {
  testing::TempDir dir;
  const auto set = [&](const std::string& iface, const std::string& state) {
    std::filesystem::create_directories(dir.path() + "/" + iface);
    std::ofstream(dir.path() + "/" + iface + "/operstate") << state << "\n";
  };
  set("lo", "up");
  set("eth0", "down");
  boost::asio::io_context io;
  auto monitor = lnx::OpenNetworkMonitor(io.get_executor(), dir.path());
  EXPECT_FALSE(monitor->link_up());  // loopback does not count
  std::vector<bool> changes;
  monitor->Start([&](bool up) { changes.push_back(up); });
  set("eth0", "up");
  io.run_for(std::chrono::milliseconds(2500));
  ASSERT_EQ(changes, std::vector<bool>{true});
  EXPECT_TRUE(monitor->link_up());
  set("eth0", "down");
  io.restart();
  io.run_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(changes, (std::vector<bool>{true, false}));
  monitor->Stop();
}

}  // namespace
}  // namespace kassa::hal
