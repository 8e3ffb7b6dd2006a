#pragma once

// The US keyboard layout keyboard-wedge scanners and card readers type in:
// an evdev key code (linux/input-event-codes.h) and the shift state to the
// character, or '\0' for keys that type none (Enter, modifiers, ...).

namespace kassa::hal::lnx {

char KeyToChar(unsigned code, bool shift);

}  // namespace kassa::hal::lnx
