#include "boards.h"
#include "kassa/hal/sim/sim_devices.h"

namespace kassa::boards {

service::BoardFactory SimBoard() {
  return [](boost::asio::any_io_executor executor) -> Result<service::Board> {
    service::Board b;
    b.description = "simulated scanner, card reader, printer and display";
    b.scanner = std::make_unique<hal::sim::SimBarcodeScanner>(executor);
    b.card_reader = std::make_unique<hal::sim::SimCardReader>(executor, "EMP");
    b.printer = std::make_unique<hal::sim::SimReceiptPrinter>(executor);
    b.display = std::make_unique<hal::sim::SimCustomerDisplay>(executor);
    b.network = std::make_unique<hal::sim::SimNetworkMonitor>(executor);
    return b;
  };
}

}  // namespace kassa::boards
