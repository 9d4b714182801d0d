from django.conf import settings
from django.http import HttpResponse
from django.urls import path


def home(request):
    collected = (settings.STATIC_ROOT / "hello.txt").exists()
    return HttpResponse(f"django says hello, static files {'collected' if collected else 'not collected'}")


urlpatterns = [path("", home)]
