import os

import flask

app = flask.Flask(__name__)


@app.route("/")
def catmeow():
    return "Cat dreams meow.."


app.run(host="0.0.0.0", port=int(os.environ.get("PORT", 5000)))
