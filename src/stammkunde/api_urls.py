"""All API routes in one router; each app contributes its viewsets."""

from rest_framework.routers import DefaultRouter

from stammkunde.commerce.api import OrderViewSet, ProductViewSet
from stammkunde.customers.api import CustomerViewSet

router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("orders", OrderViewSet, basename="order")
router.register("products", ProductViewSet, basename="product")

urlpatterns = router.urls
