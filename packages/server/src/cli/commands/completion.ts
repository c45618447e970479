/**
 * `nimbus completion bash|zsh|fish`: prints a shell completion script for
 * every command word and flag, generated from the same command table as
 * `--help`, so it never drifts. zsh runs the bash script through
 * bashcompinit, its standard bridge.
 */
import type { CommandDef } from "../command.js";
import { COMMON_OPTIONS } from "../command.js";
import { parseChoice } from "../values.js";

const SHELLS = ["bash", "zsh", "fish"] as const;

function flagsOf(def: CommandDef): string[] {
  return Object.entries({ ...def.options, ...COMMON_OPTIONS }).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
}

/** `path|flags` lines, longest paths first so a full command wins over a group. */
function table(commands: CommandDef[]): string {
  return [...commands]
    .sort((a, b) => b.path.length - a.path.length)
    .map((c) => `${c.path.join(" ")}|${flagsOf(c).join(" ")}`)
    .join("\n");
}

export function bashScript(commands: CommandDef[]): string {
  return `# nimbus completion for bash: source <(nimbus completion bash)
_nimbus_table='${table(commands)}'
_nimbus() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" typed="\${COMP_WORDS[*]:1:COMP_CWORD-1}" words="" p o rest
  while IFS='|' read -r p o; do
    if [[ -n "$typed" && "$typed " == "$p "* ]]; then words="$words $o"; break; fi
    rest="$p "
    if [[ -n "$typed" ]]; then
      [[ "$p " == "$typed "* ]] || continue
      rest="\${rest#"$typed "}"
    fi
    words="$words \${rest%% *}"
  done <<< "$_nimbus_table"
  COMPREPLY=($(compgen -W "$words" -- "$cur" | sort -u))
}
complete -o default -F _nimbus nimbus
`;
}

export function zshScript(commands: CommandDef[]): string {
  return `# nimbus completion for zsh: source <(nimbus completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(commands).replace(/^# .*\n/, "")}`;
}

export function fishScript(commands: CommandDef[]): string {
  const lines = ["# nimbus completion for fish: nimbus completion fish | source", "complete -c nimbus -f"];
  const firsts = [...new Set(commands.map((c) => c.path[0]!))];
  lines.push(`complete -c nimbus -n __fish_use_subcommand -a '${firsts.join(" ")}'`);
  for (const first of firsts) {
    const seconds = [...new Set(commands.filter((c) => c.path[0] === first && c.path.length > 1).map((c) => c.path[1]!))];
    if (seconds.length)
      lines.push(
        `complete -c nimbus -n '__fish_seen_subcommand_from ${first}; and not __fish_seen_subcommand_from ${seconds.join(" ")}' -a '${seconds.join(" ")}'`,
      );
  }
  for (const c of commands) {
    const cond = c.path.map((w) => `__fish_seen_subcommand_from ${w}`).join("; and ");
    for (const [name, o] of Object.entries({ ...c.options, ...COMMON_OPTIONS })) {
      const help = o.help.replace(/'/g, "\\'");
      lines.push(`complete -c nimbus -n '${cond}' -l ${name}${o.short ? ` -s ${o.short}` : ""}${o.type === "string" ? " -r" : ""} -d '${help}'`);
    }
  }
  return lines.join("\n") + "\n";
}

export const completionCommand: CommandDef = {
  path: ["completion"],
  summary: "Print a shell completion script (bash, zsh or fish)",
  usage: "nimbus completion bash|zsh|fish",
  description:
    "bash: `source <(nimbus completion bash)` (or save it to /etc/bash_completion.d/nimbus); zsh: `source <(nimbus completion zsh)`; fish: `nimbus completion fish > ~/.config/fish/completions/nimbus.fish`.",
  options: {},
  positionals: { min: 1, max: 1 },
  async run(args) {
    const shell = parseChoice("shell", args.positionals[0]!, SHELLS);
    // Loaded here: the command list includes this command.
    const { COMMANDS } = await import("./index.js");
    const script = shell === "bash" ? bashScript(COMMANDS) : shell === "zsh" ? zshScript(COMMANDS) : fishScript(COMMANDS);
    process.stdout.write(script);
    return 0;
  },
};
