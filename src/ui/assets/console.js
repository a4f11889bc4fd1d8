// The web console's only script, served from /ui/assets (CSP: script-src 'self', nothing inline).
// Everything works without it except hiding a revealed value on a timer and reading a file
// chosen for upload into its text field.
'use strict';

function hideRevealed(element) {
  element.textContent = 'Hidden again. Reveal it again to see it.';
  element.classList.add('hidden-value');
  element.removeAttribute('data-hide-after');
}

for (const element of document.querySelectorAll('[data-hide-after]')) {
  const seconds = Number(element.getAttribute('data-hide-after')) || 30;
  window.setTimeout(() => hideRevealed(element), seconds * 1000);
}

for (const button of document.querySelectorAll('button[data-hide]')) {
  button.addEventListener('click', () => {
    const target = document.getElementById(button.getAttribute('data-hide'));
    if (target) hideRevealed(target);
    button.remove();
  });
}

// <input type="file" data-fill="field-id">: the file's text goes into the named text field,
// so the form posts it like any other field.
for (const input of document.querySelectorAll('input[type="file"][data-fill]')) {
  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    const target = document.getElementById(input.getAttribute('data-fill'));
    if (!file || !target) return;
    file.text().then((text) => {
      target.value = text;
    });
  });
}

for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (event) => {
    if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
  });
}
