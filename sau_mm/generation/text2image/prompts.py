"""Stage 2, prompts: one text prompt per planned image.

Basic: templates (default the paper's "A photo of a {class}."), image i of a
class using template i mod len(templates). LLM-enhanced: one chat request per
prompt to any OpenAI-compatible endpoint, with the authors' system prompt,
query and answer template (docs/method.md#prompts-eq-1-and-2). Every accepted
answer is appended to ``prompts_cache.jsonl`` at once, keyed by the request
settings, so an interrupted or repeated run never asks twice. The result,
``prompts.json``, lists the prompt of image i of class c as
``prompts[c][i]``.
"""
import errno
import os
import os.path as osp
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import List, Optional, Sequence

import openai
from mmengine.logging import print_log
from openai.types.chat import ChatCompletion
from tqdm import tqdm

from .layout import (PROMPT_CACHE, PROMPTS, StageError, append_jsonl,
                     class_text,
                     fill_class, read_json, read_jsonl_tolerant,
                     settings_key, write_json)

DEFAULT_TEMPLATE = 'A photo of a {class}.'
SYSTEM_PROMPT = ('You are a helpful assistant designed to output a prompt '
                 '(no more than 50 words) describing a given object\'s '
                 'appearance and actions.')
QUERY_TEMPLATE = 'What the {class} looks like?'
ANSWER_TEMPLATE = ('A photo of the class {class}, with specific features and '
                   'with a specific background.')


class PromptEndpointError(StageError):
    """The LLM endpoint gives no usable prompts; the message says what to
    check."""


class _Unusable(Exception):
    """An answer that is not a usable prompt (retried like a failure)."""


def connection_refused(error: BaseException):
    """The ConnectionRefusedError (ECONNREFUSED) behind a client error (the
    openai client wraps httpx's, which wraps the socket's), or None."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ConnectionRefusedError) or (
                isinstance(error, OSError)
                and error.errno == errno.ECONNREFUSED):
            return error
        error = error.__cause__ or error.__context__
    return None


def basic_prompts(plan: dict, templates: Sequence[str] = (DEFAULT_TEMPLATE,)
                  ) -> dict:
    """prompts.json content from templates (``{class}`` is the class)."""
    templates = list(templates)
    if not templates or not all('{class}' in t for t in templates):
        raise ValueError(f'Every template needs a {{class}} placeholder, got '
                         f'{templates}.')
    prompts = [[fill_class(templates[i % len(templates)], name)
                for i in range(n)]
               for name, n in zip(plan['classes'], plan['needed_counts'])]
    settings = dict(mode='basic', templates=templates)
    return dict(mode='basic', settings=settings, key=settings_key(settings),
                classes=plan['classes'], prompts=prompts)


def dedup_key(prompt: str) -> str:
    """Case- and punctuation-insensitive form used to spot duplicates."""
    return ' '.join(re.findall(r'[a-z0-9]+', prompt.lower()))


class LLMClient:
    """One validated prompt per :meth:`ask` from an OpenAI-compatible chat
    endpoint. Connection errors, timeouts, HTTP 429/5xx and unusable answers
    (not a chat completion, empty text) are retried with exponential backoff
    (``backoff * 2**k`` s, jittered); other HTTP errors, and a refused
    connection (nothing listens at that host and port), fail at once. Answers
    are cleaned (whitespace, quotes), prefixed with "A photo of a {class}."
    when they do not name the class (``require_class_name``) and cut to
    ``max_words`` words. The API key is read from the environment variable
    ``api_key_env`` and never logged or stored."""

    def __init__(self, base_url: str, model: str, *,
                 api_key_env: str = 'OPENAI_API_KEY',
                 temperature: float = 1.0, max_tokens: int = 120,
                 timeout: float = 60.0, max_retries: int = 5,
                 backoff: float = 1.0, max_words: int = 60,
                 require_class_name: bool = True,
                 system_prompt: str = SYSTEM_PROMPT,
                 query_template: str = QUERY_TEMPLATE,
                 answer_template: str = ANSWER_TEMPLATE):
        api_key = os.environ.get(api_key_env)
        key_state = 'set' if api_key else 'not set, sending a placeholder'
        print_log(f'LLM endpoint {base_url}, model {model}; API key from '
                  f'${api_key_env}: {key_state}.', logger='current')
        self.base_url, self.model = base_url, model
        self.api_key_env, self.timeout = api_key_env, timeout
        self.max_retries, self.backoff = max_retries, backoff
        self.settings = dict(
            mode='llm', model=model, temperature=temperature,
            max_tokens=max_tokens, max_words=max_words,
            require_class_name=require_class_name,
            system_prompt=system_prompt, query_template=query_template,
            answer_template=answer_template)
        self.stats = Counter()
        self._lock = threading.Lock()
        self._client = openai.OpenAI(base_url=base_url,
                                     api_key=api_key or 'not-set',
                                     timeout=timeout, max_retries=0)

    def messages(self, name: str) -> List[dict]:
        """The chat messages asking for one description of class ``name``."""
        s = self.settings
        query = fill_class(s['query_template'], name)
        if s['answer_template']:
            query += ('\nAnswer in the form: '
                      + fill_class(s['answer_template'], name))
        return [dict(role='system', content=s['system_prompt']),
                dict(role='user', content=query)]

    def ask(self, name: str) -> str:
        """One cleaned prompt for class ``name`` (retried as documented);
        raises PromptEndpointError when retries are exhausted."""
        s = self.settings
        kwargs = dict(model=self.model, messages=self.messages(name),
                      temperature=s['temperature'])
        if s['max_tokens']:
            kwargs['max_tokens'] = s['max_tokens']
        last = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._count('retries')
                time.sleep(self.backoff * 2**(attempt - 1) *
                           random.uniform(1.0, 1.25))
            try:
                self._count('requests')
                answer = self._client.chat.completions.create(**kwargs)
                return self._clean(self._content(answer), name)
            except (openai.APIConnectionError, openai.RateLimitError,
                    openai.InternalServerError, _Unusable) as e:
                refused = connection_refused(e)
                if refused is not None:  # no server there: retries only wait
                    raise PromptEndpointError(
                        self._refused_message(refused)) from e
                last = e
            except openai.APIStatusError as e:
                raise PromptEndpointError(self._status_message(e)) from e
        raise PromptEndpointError(self._failure_message(last)) from last

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1

    @staticmethod
    def _content(answer) -> str:
        if not isinstance(answer, ChatCompletion) or not answer.choices:
            raise _Unusable('the answer is not an OpenAI chat completion '
                            f'(starts with {str(answer)[:80]!r})')
        content = answer.choices[0].message.content
        if not isinstance(content, str) or not content.strip():
            raise _Unusable('the answer has empty message content')
        return content

    def _clean(self, text: str, name: str) -> str:
        text = ' '.join(text.split()).strip('"\'`\u201c\u201d\u2018\u2019 ')
        if not text:
            raise _Unusable('the answer has no text after cleaning')
        if (self.settings['require_class_name']
                and class_text(name).lower() not in text.lower()):
            text = f'{fill_class(DEFAULT_TEMPLATE, name)} {text}'
        words = text.split()
        if len(words) > self.settings['max_words']:
            self._count('truncated')
            text = ' '.join(words[:self.settings['max_words']])
        return text

    def _status_message(self, e: 'openai.APIStatusError') -> str:
        hint = {401: f'the API key in ${self.api_key_env}',
                403: f'the API key in ${self.api_key_env} and its access '
                     f'to model {self.model!r}',
                404: f'--base-url (usually ending in /v1) and that model '
                     f'{self.model!r} is served there'}.get(
                         e.status_code, '--model and the request settings')
        return (f'The LLM endpoint {self.base_url} refused the request: HTTP '
                f'{e.status_code} ({e.message}). Check {hint}.')

    def _refused_message(self, cause: OSError) -> str:
        return (f'The LLM endpoint {self.base_url} cannot be reached: the '
                f'connection was refused ({cause}), so no server listens at '
                'that host and port (not retried). Check --base-url (host '
                'and port) and that the server is running.')

    def _failure_message(self, last: Exception) -> str:
        tries = self.max_retries + 1
        if isinstance(last, openai.APITimeoutError):
            what = (f'did not answer within {self.timeout:g} s ({tries} '
                    'tries). Check the server load, or raise --timeout')
        elif isinstance(last, openai.APIConnectionError):
            cause = last.__cause__ or last
            what = (f'cannot be reached ({tries} tries; {cause}). Check '
                    '--base-url, that the server is running and reachable '
                    'from this machine, and proxy settings')
        elif isinstance(last, _Unusable):
            what = (f'gave no usable answer in {tries} tries: {last}. Check '
                    'that --base-url is the root of an OpenAI-compatible API '
                    f'(e.g. http://host:8000/v1) and that --model '
                    f'{self.model!r} is a chat model served there')
        else:
            what = (f'kept failing ({tries} tries; {last}). Check the '
                    'server logs and rate limits')
        return f'The LLM endpoint {self.base_url} {what}.'


def llm_prompts(plan: dict, out_dir: str, client: LLMClient, *,
                workers: int = 8, max_duplicate_retries: int = 3) -> dict:
    """prompts.json content from the LLM: cached answers first, then one
    request per missing prompt on ``workers`` threads. A duplicate of a prompt
    the class already has is asked again up to ``max_duplicate_retries``
    times, then kept (and counted). The first endpoint error stops the pool
    and is raised; every prompt received so far stays cached."""
    key = settings_key(client.settings)
    cache_path = osp.join(out_dir, PROMPT_CACHE)
    got = {name: [] for name in plan['classes']}
    for row in read_jsonl_tolerant(cache_path):
        if row.get('key') == key and row.get('class') in got:
            got[row['class']].append(row['prompt'])
    needed = dict(zip(plan['classes'], plan['needed_counts']))
    todo = [name for name in plan['classes']
            for _ in range(max(0, needed[name] - len(got[name])))]
    cached = sum(min(len(got[n]), needed[n]) for n in got)
    print_log(f'LLM prompts: {sum(needed.values())} needed, {cached} from the '
              f'cache ({cache_path}), {len(todo)} to request with {workers} '
              'worker(s).', logger='current')
    seen = {name: {dedup_key(p) for p in got[name]} for name in got}
    lock, stop, stats = threading.Lock(), threading.Event(), Counter()

    def one(name: str) -> None:
        for attempt in range(max_duplicate_retries + 1):
            if stop.is_set():
                return
            prompt = client.ask(name)
            with lock:
                duplicate = dedup_key(prompt) in seen[name]
                if duplicate and attempt < max_duplicate_retries:
                    stats['duplicates_retried'] += 1
                    continue
                stats['duplicates_kept'] += duplicate
                seen[name].add(dedup_key(prompt))
                got[name].append(prompt)
                append_jsonl(cache_path, [{'key': key, 'class': name,
                                           'prompt': prompt}])
                bar.update()
                return

    with tqdm(total=len(todo), desc='prompts', unit='prompt') as bar, \
            ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(one, name) for name in todo]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        errors = [f.exception() for f in done if f.exception()]
        if errors:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            print_log(f'Stopped: {sum(len(v) for v in got.values())} prompts '
                      'are cached; a rerun asks only for the rest.',
                      logger='current', level=40)
            raise errors[0]
    s = client.stats
    print_log(f'LLM prompts: {s["requests"]} requests, {s["retries"]} '
              f'retries, {s["truncated"]} answers cut to max_words, '
              f'{stats["duplicates_retried"]} duplicates asked again.',
              logger='current')
    if stats['duplicates_kept']:
        print_log(f'{stats["duplicates_kept"]} duplicate prompt(s) kept after '
                  f'{max_duplicate_retries} retries each: raise '
                  '--temperature for more diversity.', logger='current',
                  level=30)
    prompts = [got[name][:needed[name]] for name in plan['classes']]
    return dict(mode='llm', settings=client.settings, key=key,
                classes=plan['classes'], prompts=prompts)


def write_prompts(out_dir: str, doc: dict) -> str:
    """Write ``out_dir/prompts.json`` atomically and log its counts."""
    path = osp.join(out_dir, PROMPTS)
    write_json(path, doc)
    counts = [len(p) for p in doc['prompts']]
    unique = [len({dedup_key(x) for x in p}) for p in doc['prompts']]
    print_log(f'Wrote {path}: {sum(counts)} prompts ({doc["mode"]}) for '
              f'{len(counts)} classes, {sum(unique)} distinct within their '
              'class.', logger='current')
    return path


def read_prompts(out_dir: str, plan: dict) -> List[List[str]]:
    """``prompts[c][i]`` for every planned image; an error naming the
    classes that lack prompts (the plan grew: rerun the prompts stage)."""
    doc = read_json(out_dir, PROMPTS)
    if list(doc['classes']) != list(plan['classes']):
        raise StageError(f'{osp.join(out_dir, PROMPTS)} was made for other '
                         'classes than plan.json: rerun the prompts stage.')
    short = [f'{name} ({len(p)}/{n})' for name, p, n in zip(
        plan['classes'], doc['prompts'], plan['needed_counts']) if len(p) < n]
    if short:
        raise StageError(f'{osp.join(out_dir, PROMPTS)} has too few prompts '
                         f'for {", ".join(short[:10])}: rerun the prompts '
                         'stage (cached prompts are reused).')
    return [p[:n] for p, n in zip(doc['prompts'], plan['needed_counts'])]


def make_prompts(out_dir: str, plan: dict, *, mode: str = 'basic',
                 templates: Optional[Sequence[str]] = None,
                 client: Optional[LLMClient] = None, workers: int = 8,
                 max_duplicate_retries: int = 3) -> dict:
    """Run the prompts stage (``mode`` 'basic' or 'llm') and write
    prompts.json."""
    if mode == 'basic':
        doc = basic_prompts(plan, templates or (DEFAULT_TEMPLATE,))
    elif mode == 'llm':
        if client is None:
            raise ValueError("mode='llm' needs an LLMClient.")
        doc = llm_prompts(plan, out_dir, client, workers=workers,
                          max_duplicate_retries=max_duplicate_retries)
    else:
        raise ValueError(f"mode must be 'basic' or 'llm', got {mode!r}.")
    write_prompts(out_dir, doc)
    return doc
