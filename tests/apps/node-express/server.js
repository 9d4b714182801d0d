const fs = require("fs");
const express = require("express");

const app = express();

app.get("/", (_req, res) => res.type("text").send(`hello from express on ${process.env.DYNO}`));
app.get("/built", (_req, res) => res.type("text").send(fs.readFileSync("built.txt", "utf8")));
app.get("/runtime", (_req, res) =>
  res.type("text").send(`NODE_ENV=${process.env.NODE_ENV} is-number=${fs.existsSync("node_modules/is-number")}`)
);

app.listen(process.env.PORT, "0.0.0.0");
