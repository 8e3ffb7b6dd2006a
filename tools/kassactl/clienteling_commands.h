#pragma once

// kassactl's operator and clienteling commands: login/logout, clientbook,
// card, activity and note (kassactl --help lists them).

#include <string>

#include "ctl_support.h"

namespace kassa::ctl {

// Where `kassactl login` keeps the session: $KASSA_SESSION_FILE, else
// $HOME/.kassactl-session (mode 0600).
std::string SessionFilePath();
// $KASSA_SESSION, else the session file's token ("" when neither).
std::string LoadSessionToken();
// kassa-hq's admin token: $KASSA_ADMIN_TOKEN, else the first line of
// $KASSA_ADMIN_TOKEN_FILE (default ~/.kassactl-admin-token).
std::string LoadAdminToken();

int LoginCommand(Globals& g, int argc, char** argv, int i);
int LogoutCommand(Globals& g, int argc, int i);
int ClientbookCommand(const Globals& g, int argc, char** argv, int i);
int CardCommand(const Globals& g, int argc, char** argv, int i);
int ActivityCommand(const Globals& g, int argc, char** argv, int i);
int NoteCommand(const Globals& g, int argc, char** argv, int i);

}  // namespace kassa::ctl
