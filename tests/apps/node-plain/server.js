const http = require("http");

http
  .createServer((_req, res) => res.end(`hello from plain node on ${process.env.DYNO}`))
  .listen(process.env.PORT, "0.0.0.0");
