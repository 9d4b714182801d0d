// What the Node.js buildpack reads out of package.json, with the stack's own Node:
//   node package.js PACKAGE_JSON check                   exit 3 with a message if it is not JSON
//   node package.js PACKAGE_JSON get FIELD.PATH          a string field, or nothing
//   node package.js PACKAGE_JSON has-script NAME         exit 0 when scripts.NAME is a command
//   node package.js PACKAGE_JSON dependencies            the fields an install depends on, as JSON
//   node package.js PACKAGE_JSON satisfies RANGE VERSION yes, no or invalid (npm's semver)
"use strict";

const fs = require("fs");
const path = require("path");

// Everything in package.json that changes what an install puts in node_modules.
const DEPENDENCY_FIELDS = [
  "dependencies",
  "devDependencies",
  "optionalDependencies",
  "peerDependencies",
  "bundleDependencies",
  "bundledDependencies",
  "overrides",
  "resolutions",
  "workspaces",
  "pnpm",
];

function read(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8").replace(/^\uFEFF/, ""));
  } catch (error) {
    console.error(` !     package.json cannot be read: ${error.message}`);
    process.exit(3);
  }
}

function field(pkg, dotted) {
  return dotted.split(".").reduce((value, key) => (value && typeof value === "object" ? value[key] : undefined), pkg);
}

// npm carries semver (node_modules/semver beside its bin/ folder); the stack has no other copy.
function semver() {
  const npm = fs.realpathSync(process.env.NPM_CLI || "/usr/local/bin/npm");
  return require(path.join(path.dirname(npm), "..", "node_modules", "semver"));
}

const commands = {
  check() {},
  get(pkg, dotted) {
    const value = field(pkg, dotted);
    if (typeof value === "string") console.log(value.trim());
  },
  "has-script"(pkg, name) {
    const script = field(pkg, "scripts." + name);
    process.exit(typeof script === "string" && script.trim() !== "" ? 0 : 1);
  },
  dependencies(pkg) {
    console.log(JSON.stringify(DEPENDENCY_FIELDS.map((name) => [name, pkg[name] === undefined ? null : pkg[name]])));
  },
  satisfies(_pkg, range, version) {
    const { validRange, satisfies } = semver();
    console.log(validRange(range) === null ? "invalid" : satisfies(version, range) ? "yes" : "no");
  },
};

const [file, command, ...args] = process.argv.slice(2);
if (!commands[command]) {
  console.error(`package.js: unknown command ${command}`);
  process.exit(2);
}
commands[command](read(file), ...args);
