"""What a tenant's Dockerfile may build from, as far as names, images and syntax tell."""

import pytest

from minidokku.build.builders import dockerfile_syntax, tenant_images
from minidokku.errors import ValidationError
from minidokku.runtime import labels

APP = "t-1-eve"  # the app's name on the engine (NAMESPACE + name)


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("dokku/t-1-victim", "another app's image"),
        ("dokku/t-1-victim:3", "another app's image"),
        ("docker.io/dokku/victim", "another app's image"),
        ("index.docker.io/dokku/victim@sha256:" + "a" * 64, "another app's image"),
        ("minidokku/postgres:15", "minidokku's own images"),
        ("docker.io/minidokku/postgres", "minidokku's own images"),
        ("$BASE", "variable"),
        ("${B:-python}", "variable"),
        ("dokku/vic$X", "variable"),
        ('"dokku/victim"', "not an image name"),
        ("dokku/vic\\tim", "not an image name"),
        ("dokku/Victim", "not an image name"),
        ("../containers/x", "not an image name"),
        ("dokku/victim:bad tag", "not an image name"),
    ],
)
def test_names_a_tenant_may_not_build_from(reference, problem):
    assert problem in tenant_images.name_problem(reference, APP)


@pytest.mark.parametrize(
    "reference",
    ["python:3.12-slim", "library/python", "minidokku/stack:latest", f"dokku/{APP}", f"dokku/{APP}:4",
     "ghcr.io/org/image:1", "localhost:5000/team/app", "debian@sha256:" + "b" * 64],
)  # fmt: skip
def test_names_a_tenant_may_build_from(reference):
    assert tenant_images.name_problem(reference, APP) == ""


@pytest.mark.parametrize(
    ("reference", "familiar"),
    [
        ("python", "python:latest"),
        ("library/python:3", "python:3"),
        ("docker.io/library/python:3", "python:3"),
        ("docker.io/python", "python:latest"),
        ("index.docker.io/dokku/x", "dokku/x:latest"),
        ("localhost:5000/x", "localhost:5000/x:latest"),
        ("ghcr.io/library/x:1", "ghcr.io/library/x:1"),
        ("python:3@sha256:abc", "python@sha256:abc"),
    ],
)
def test_familiar_names_are_the_ones_docker_images_shows(reference, familiar):
    assert tenant_images.familiar(reference) == familiar


def image(tags=(), digests=(), image_labels=None) -> dict:
    return {"RepoTags": list(tags), "RepoDigests": list(digests), "Config": {"Labels": image_labels}}


def test_an_image_found_by_its_tag_is_accepted():
    assert tenant_images.image_problem(image(["python:3.12"]), "docker.io/library/python:3.12", APP) == ""
    assert tenant_images.image_problem(image(["minidokku/stack:latest"]), "minidokku/stack", APP) == ""


def test_an_image_found_by_an_id_or_an_id_prefix_is_refused():
    untagged_layer = image()
    assert "an image id is not accepted" in tenant_images.image_problem(untagged_layer, "3f2a", APP)
    tagged = image(["python:3.12"])
    assert "an image id is not accepted" in tenant_images.image_problem(tagged, "3f2a", APP)


def test_a_digest_must_be_one_of_the_images_digests():
    digest = "sha256:" + "c" * 64
    found = image(["python:3"], [f"python@{digest}"])
    assert tenant_images.image_problem(found, f"python@{digest}", APP) == ""
    assert "not an image name" in tenant_images.image_problem(image(["python:3"]), f"python@{digest}", APP)


def test_an_image_also_tagged_as_another_apps_is_refused():
    both = image(["company/base:1", "dokku/t-1-victim:latest"])
    assert "another app's image" in tenant_images.image_problem(both, "company/base:1", APP)


def test_an_image_labelled_with_another_app_or_a_service_is_refused():
    labelled = image(["company/base:1"], image_labels={labels.APP: "t-1-victim"})
    assert "another app's image" in tenant_images.image_problem(labelled, "company/base:1", APP)
    service = image(["company/pg:1"], image_labels={labels.SERVICE: "postgres/db"})
    assert "a service's image" in tenant_images.image_problem(service, "company/pg:1", APP)
    own = image([f"dokku/{APP}:latest"], image_labels={labels.APP: APP})
    assert tenant_images.image_problem(own, f"dokku/{APP}", APP) == ""


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# syntax=dokku/victim\nFROM python\n", "# syntax="),
        ("# check=x\n# escape=`\nFROM python\n", "escape"),
        ("FROM python\nRUN --mount=type=bind,from=dokku/victim,target=/v cat /v/x\n", "RUN takes no flags"),
        ("FROM python\nrun --network=host echo\n", "RUN takes no flags"),
        ("FROM python\nONBUILD RUN --mount=type=cache,target=/c echo\n", "RUN takes no flags"),
        ("FROM python\nADD http://127.0.0.1:8080/secret /s\n", "ADD only files"),
        ('FROM python\nADD ["https://example.com/x", "/x"]\n', "ADD only files"),
        ("FROM python\nARG U\nADD $U /x\n", "ADD only files"),
        ("FROM python\nADD http:/\\/127.0.0.1/ /x\n", "ADD only files"),
        ("FROM python\nCOPY --chown=1\u00e0--from=dokku/victim /app /x\n", "plain ASCII"),
        ("FROM python\nLABEL com.dokku.app-name=t-1-victim com.dokku.role=run\n", "minidokku's own"),
        ("FROM python\nLABEL version=1 com.dokku.role=process\n", "minidokku's own"),
        ('FROM python\nlabel "COM.DOKKU.app-name"="t-1-victim"\n', "minidokku's own"),
        ("FROM python\nLABEL com.do\\kku.role=run\n", "minidokku's own"),
        ("FROM python\nLABEL com.dokku.role run\n", "minidokku's own"),
        ("FROM python\nLABEL com.minidokku.service=postgres/db\n", "minidokku's own"),
        ("FROM python\nONBUILD LABEL com.dokku.app-name=t-1-victim\n", "minidokku's own"),
        ("FROM python\nARG K=com.dokku.role\nLABEL $K=run\n", "variable"),
        ("FROM python\nLABEL com.${D:-dokku}.role=run\n", "variable"),
    ],
)
def test_syntax_a_tenant_may_not_use(text, problem):
    problems = tenant_images.syntax_problems(dockerfile_syntax.parse(text))
    assert len(problems) == 1 and problem in problems[0]


def test_plain_dockerfiles_have_no_syntax_problem():
    text = "# escape=\\\nFROM python:3 AS build\nADD app.tar.gz /src/\nCOPY --from=build /src /src\nRUN pip install .\n"
    text += 'ARG V=1\nLABEL org.opencontainers.image.version=$V maintainer="Eve <eve@example.com>"\n'
    assert tenant_images.syntax_problems(dockerfile_syntax.parse(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        # Python's strip() takes \x1c as white space, Go's builder does not: the lone \x1c line
        # ends the WORKDIR for the builder, and the COPY --from would run unchecked
        "FROM scratch\nWORKDIR /w \\\n\x1c\nCOPY --from=dokku/t-1-victim:latest /secret /stolen\n",
        # the builder's directive pattern takes \f around the name: ` becomes the escape for it alone
        "#\fescape=`\nFROM scratch\nWORKDIR /w \\\nCOPY --from=dokku/t-1-victim:latest /s /s\n",
        "FROM scratch\rCOPY --from=dokku/t-1-victim /s /s\n",  # a CR that ends no line
        "FROM scratch\nRUN echo\u00a0hi\n",
        "FROM scratch\nRUN echo \x00\n",
    ],
)
def test_characters_the_builder_and_the_check_could_read_differently_are_refused(text):
    with pytest.raises(ValidationError, match="only spaces, tabs and line ends"):
        tenant_images.check(None, text, APP)  # refused before any image is looked at


def test_a_bom_and_crlf_line_ends_are_plain_text():
    tenant_images.check(None, "\ufeffFROM scratch\r\nCOPY . /app\r\n", APP)  # scratch names no image
