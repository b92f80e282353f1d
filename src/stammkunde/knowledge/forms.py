from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Article


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    body = forms.CharField(label=_("text"), widget=forms.Textarea(attrs={"rows": 12}))
    category = forms.CharField(label=_("category"), max_length=100, required=False)
    visibility = forms.ChoiceField(label=_("visibility"), choices=Article.Visibility.choices)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
