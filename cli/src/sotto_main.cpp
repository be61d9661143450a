// sotto: the command-line client for people. A thin shell: it reads the options given before
// the command (--home, --json, --help, --version), picks the command and hands it the rest of
// the command line (commands.h). The work is done by the background client (`sotto up`).
#include <iostream>
#include <string>
#include <string_view>

#include "commands.h"
#include "sotto/core/sodium.h"

#ifndef SOTTO_VERSION
#define SOTTO_VERSION "0.1.0"
#endif

namespace {

using namespace sotto::cli;

struct Command {
  std::string_view name;
  int (*run)(const Globals&, const Args&);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"init", CmdInit, "create your identity and register with a provider"},
    {"up", CmdUp, "start the background client (cover traffic, sending, fetching)"},
    {"down", CmdDown, "stop the background client"},
    {"status", CmdStatus, "what the background client is doing"},
    {"contact", CmdContact, "your contact code; add, list and remove contacts"},
    {"send", CmdSend, "send a message to a contact"},
    {"inbox", CmdInbox, "read new messages"},
    {"history", CmdHistory, "your conversation with a contact"},
    {"chat", CmdChat, "talk with a contact interactively"},
    {"receipts", CmdReceipts, "show or change the delivery receipt setting"},
};

constexpr std::string_view kCommandList =
    "init, up, down, status, contact, send, inbox, history, chat, receipts";

void PrintHelp() {
  std::cout << "usage: sotto [--home DIR] COMMAND [ARGS...] [options]\n\n"
               "Sotto sends messages through a mix network that hides who talks to whom, when\n"
               "and how often: your messages leave in place of steady cover traffic.\n\n"
               "Getting started:\n"
               "  sotto init --config client.ini   create your identity (the network's settings)\n"
               "  sotto up                         start the background client\n"
               "  sotto contact code               your contact code, to give to people\n"
               "  sotto contact add NAME CODE      add someone from their contact code\n"
               "  sotto send NAME MESSAGE...       send a message\n"
               "  sotto inbox                      read new messages\n"
               "  sotto chat NAME                  talk interactively\n\n"
               "Commands:\n";
  for (const auto& c : kCommands) {
    std::cout << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << "\n";
  }
  std::cout << "  help      this help; `sotto help COMMAND` is `sotto COMMAND --help`\n\n"
               "Options for every command (before or after it):\n"
               "  --home DIR    the client's home folder (default: $SOTTO_HOME, else\n"
               "                $XDG_DATA_HOME/sotto, else ~/.local/share/sotto)\n"
               "  --json        JSON output for programs (status, contact code, contact list,\n"
               "                send, inbox, history, receipts)\n"
               "  -h, --help    help for sotto or for a command\n"
               "  --version     print the version\n\n"
               "Exit codes:\n"
               "  0  success\n"
               "  1  error (internal or unexpected; see the message and sotto.log in the home)\n"
               "  2  bad usage or invalid input (wrong arguments, bad contact code, invalid\n"
               "     UTF-8, message too long, wrong passphrase)\n"
               "  3  the background client is not running (start it with `sotto up`)\n"
               "  4  no such contact\n"
               "  5  the network cannot be reached (directory or provider unavailable, no\n"
               "     consensus)\n";
}

const Command* Find(std::string_view name) {
  for (const auto& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

int UnknownCommand(std::string_view name) {
  return Fail(kExitUsage, "unknown command '" + std::string(name) +
                              "' (commands: " + std::string(kCommandList) + "; see sotto --help)");
}

int Main(int argc, char** argv) {
  Globals globals;
  bool help = false;
  int i = 1;
  // Options before the command.
  for (; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--home") {
      if (i + 1 >= argc) return Fail(kExitUsage, "--home needs a folder (see sotto --help)");
      globals.home = argv[++i];
    } else if (a.rfind("--home=", 0) == 0) {
      globals.home = std::string(a.substr(7));
    } else if (a == "--json") {
      globals.json = true;
    } else if (a == "-h" || a == "--help") {
      help = true;
    } else if (a == "--version") {
      std::cout << "sotto " << SOTTO_VERSION << "\n";
      return kExitOk;
    } else if (!a.empty() && a[0] == '-') {
      return Fail(kExitUsage, "unknown option '" + std::string(a) + "' (see sotto --help)");
    } else {
      break;
    }
  }
  if (i >= argc) {
    if (help) {
      PrintHelp();
      return kExitOk;
    }
    return Fail(kExitUsage,
                "no command given (commands: " + std::string(kCommandList) + "; see sotto --help)");
  }
  std::string name = argv[i];
  Args args(argv + i + 1, argv + argc);
  if (name == "help") {
    if (args.empty()) {
      PrintHelp();
      return kExitOk;
    }
    name = args[0];
    args = {"--help"};
    help = false;
  }
  const Command* command = Find(name);
  if (command == nullptr) return UnknownCommand(name);
  if (help) args.insert(args.begin(), "--help");
  return command->run(globals, args);
}

}  // namespace

int main(int argc, char** argv) {
  sotto::InitSodiumOrDie();
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    return Fail(kExitError,
                std::string("unexpected error: ") + e.what() + " (please report this bug)");
  }
}
