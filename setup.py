#!/usr/bin/env python
"""devops-token: an Azure CLI extension for Azure DevOps REST with Microsoft Entra tokens."""
import re

from setuptools import find_packages, setup

with open('azext_devopstoken/_version.py', encoding='utf-8') as handle:
    VERSION = re.search(r'VERSION = "([^"]+)"', handle.read()).group(1)

with open('README.md', encoding='utf-8') as readme, open('HISTORY.rst', encoding='utf-8') as history:
    LONG_DESCRIPTION = readme.read() + '\n\n' + history.read()

CLASSIFIERS = [
    'Development Status :: 4 - Beta',
    'Intended Audience :: Developers',
    'Intended Audience :: System Administrators',
    'Programming Language :: Python :: 3',
    'License :: OSI Approved :: MIT License',
]

# Everything it imports (azure-cli-core, knack, requests, msal) ships with the Azure CLI itself.
DEPENDENCIES = []

setup(
    name='devops-token',
    version=VERSION,
    description='Call Azure DevOps REST APIs with the Microsoft Entra login that az already holds.',
    long_description=LONG_DESCRIPTION,
    long_description_content_type='text/markdown',
    license='MIT',
    author='devops-token contributors',
    url='https://github.com/devops-token/devops-token',
    classifiers=CLASSIFIERS,
    packages=find_packages(include=['azext_devopstoken', 'azext_devopstoken.*']),
    install_requires=DEPENDENCIES,
    package_data={'azext_devopstoken': ['azext_metadata.json']},
    python_requires='>=3.9',
)
