"""catmeow's kind of page, served by gunicorn as a real app is: on SIGTERM gunicorn stops its
workers and exits 0, so a restart policy of on-failure does not start it again."""

import flask

app = flask.Flask(__name__)


@app.route("/")
def gunimeow():
    return "Gunicorn meows.."
