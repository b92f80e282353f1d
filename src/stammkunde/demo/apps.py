from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "stammkunde.demo"
    label = "demo"
    verbose_name = "Demo shop"

    def ready(self) -> None:
        from stammkunde.core.hooks import hook_register

        from .selectors import demo_truth_fill

        hook_register("demo_truth", demo_truth_fill)
