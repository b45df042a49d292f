from django.db import models


class Invoice(models.Model):
    number = models.CharField(max_length=20)
    customer = models.CharField(max_length=100)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    secret_note = models.CharField(max_length=100, default="")

    class Meta:
        app_label = "djangoapp"

    def __str__(self) -> str:
        return f"Invoice {self.number}"
