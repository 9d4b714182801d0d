// The build script: uses a devDependency, which is pruned after it.
const fs = require("fs");
const isNumber = require("is-number");

fs.writeFileSync("built.txt", `built with is-number: ${isNumber(42)}\n`);
