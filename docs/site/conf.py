# Copyright (c) Ansible Project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Created with antsibull-docs 2.28.0

# This file only contains a selection of the most common options. For a full list see the
# documentation:
# http://www.sphinx-doc.org/en/master/config

project = 'textileio.textile'
copyright = 'textileio.textile contributors'

title = 'textileio.textile'
html_short_title = 'textileio.textile'

# No intersphinx: the build is offline (no inventory can be fetched), so sphinx.ext.intersphinx is left out.
extensions = ['sphinx.ext.autodoc', 'sphinx_antsibull_ext']

pygments_style = 'ansible'

highlight_language = 'YAML+Jinja'

html_theme = 'sphinx_ansible_theme'
html_show_sphinx = False

display_version = False

html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

# Without intersphinx, the labels of the Ansible documentation that the generated pages refer to link to their
# pages here; a label not in this map stays unresolved, and the build (-W) fails on it.
ANSIBLE_DOCS = 'https://docs.ansible.com/projects/ansible/devel/'
ANSIBLE_DOCS_LABELS = {
    'common_return_values': ('reference_appendices/common_return_values.html', 'Return Values'),
    'ansible_configuration_settings': ('reference_appendices/config.html', 'Ansible Configuration Settings'),
}


def link_ansible_docs_label(app, env, node, contnode):
    """Resolve a ``:ref:`` to a label of ANSIBLE_DOCS_LABELS (Sphinx's missing-reference event)."""
    from docutils import nodes

    if node.get('reftype') != 'ref' or node.get('reftarget') not in ANSIBLE_DOCS_LABELS:
        return None
    page, title = ANSIBLE_DOCS_LABELS[node['reftarget']]
    text = contnode.astext() if node.get('refexplicit') else title
    return nodes.reference(text, text, internal=False, refuri=ANSIBLE_DOCS + page)


def setup(app):
    app.connect('missing-reference', link_ansible_docs_label)


default_role = 'any'

nitpicky = True
