// The ticket page: a knowledge article's button inserts its text into the reply.
document.addEventListener("click", function (event) {
  const button = event.target.closest(".insert-article");
  if (!button) return;
  const body = document.getElementById("reply-body");
  const text = document.getElementById("article-body-" + button.dataset.id).innerHTML;
  const decoded = new DOMParser().parseFromString(text, "text/html").documentElement.textContent;
  body.value = (body.value.trim() ? body.value.trimEnd() + "\n\n" : "") + decoded;
  const ids = document.getElementById("article-ids");
  ids.value = ids.value ? ids.value + "," + button.dataset.id : button.dataset.id;
  body.focus();
});
