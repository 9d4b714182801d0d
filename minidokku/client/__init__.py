"""The client: `dokku` on a laptop, in an app's repository, as Dokku's client script
(contrib/dokku_client.sh) is. The server and the app come from the git remote named `dokku`
(`--remote NAME`, or `dokku remote:set NAME`, for another), or the server from DOKKU_HOST and
DOKKU_PORT; the command goes over ssh (client/ssh.py) with the app added (client/command_line.py)
and its exit code comes back as ours. `apps:create` adds the remote when the app was made,
`apps:destroy` removes it when the app is gone, `remote` and `remote:*` act on the repository
alone (client/remote_commands.py). minidokku/entry.py says when `dokku` is the client, and
client/dispatch.py runs it.

    dokku apps:create catmeow          # creates it on the server, adds the remote `dokku`
    git push dokku main
    dokku config:set SECRET=x          # sent as `--app catmeow config:set SECRET=x`
    dokku --remote staging logs -t
"""
