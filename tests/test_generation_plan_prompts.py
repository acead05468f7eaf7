"""Synthetic-data stages 1-2: the plan and the prompts (basic and LLM, the
LLM played by a local HTTP server)."""
import glob
import json
import os.path as osp
import socket

import pytest

from sau_mm.generation.text2image import cli
from sau_mm.generation.text2image.layout import PROMPT_CACHE, StageError
from sau_mm.generation.text2image.plan import (compute_plan, read_plan,
                                               write_plan)
from sau_mm.generation.text2image.prompts import (LLMClient,
                                                  PromptEndpointError,
                                                  dedup_key, make_prompts,
                                                  read_prompts)

from tests.support import ROOT
from tests.support.data import make_image_folder
from tests.support.generation import FakeLLM

CONFIG = osp.join(
    ROOT, 'configs/baselines/resnet32_cifar10jpeg_lt/ce_real_synthetic.py')
CLASSES = ['cat', 'sports_car', 'ship']


@pytest.fixture
def out_dir(tmp_path):
    """An output folder planned for 3 classes needing 0 / 3 / 5 images."""
    write_plan(str(tmp_path), compute_plan(CLASSES, [6, 3, 1],
                                           resolution=32))
    return str(tmp_path)


def llm(url, model, **kw):
    kw.setdefault('backoff', 0.01)
    kw.setdefault('timeout', 5)
    return LLMClient(url, model, api_key_env='SAU_TEST_LLM_KEY', **kw)


def test_compute_plan_is_the_complement():
    plan = compute_plan(CLASSES, [10, 4, 0])
    assert plan['target_count'] == 10
    assert plan['needed_counts'] == [0, 6, 10]
    assert plan['total_needed'] == 16
    plan = compute_plan(CLASSES, [10, 4, 0], target_count=12, oversample=1.5)
    assert plan['complement_counts'] == [2, 8, 12]
    assert plan['needed_counts'] == [3, 12, 18]
    with pytest.raises(ValueError):
        compute_plan(CLASSES, [1, 2])


@pytest.mark.parametrize('config, key', [
    (CONFIG, 'train_dataloader.dataset'),
    (osp.join(ROOT, 'configs/sau/resnet32_cifar10jpeg_lt.py'),
     'train_dataloader.dataset.dataset'),  # inside MixPartnerDataset
])
def test_plan_from_config_matches_the_dataset(tmp_path, config, key):
    data = make_image_folder(str(tmp_path / 'data'), [40] * 10)
    out = str(tmp_path / 'out')
    assert cli.main(['plan', config, '--out-dir', out, '--cfg-options',
                     f'{key}.data_root={data}',
                     f'{key}.imbalance_factor=4']) == 0
    plan = read_plan(out)
    real = [int(40 * 4**(-c / 9)) for c in range(10)]
    assert plan['real_counts'] == real
    assert plan['needed_counts'] == [40 - n for n in real]
    assert plan['classes'] == [f'class_{c}' for c in range(10)]
    assert plan['resolution'] == 32
    ds = plan['dataset']
    assert ds['imbalance_factor'] == 4 and ds['subset_seed'] == 0
    assert ds['source'] == 'image_folder' and ds['data_root'] == data
    assert ds['config_key'] == key
    assert glob.glob(osp.join(out, 'logs', 'plan_*.log'))


def test_plan_cifar10_lt_if100(cifar10_jpeg_root):
    from sau_mm.generation.text2image.plan import plan_from_config
    plan = plan_from_config(CONFIG, {
        'train_dataloader.dataset.data_root': cifar10_jpeg_root})
    real = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert plan['real_counts'] == real
    assert plan['needed_counts'] == [5000 - n for n in real]
    assert plan['total_needed'] == 37594 and plan['resolution'] == 32


def test_basic_prompts_cycle_templates(out_dir):
    make_prompts(out_dir, read_plan(out_dir), mode='basic',
                 templates=['A photo of a {class}.',
                            'A picture of a {class}.'])
    prompts = read_prompts(out_dir, read_plan(out_dir))
    assert [len(p) for p in prompts] == [0, 3, 5]
    assert prompts[1] == ['A photo of a sports car.',
                          'A picture of a sports car.',
                          'A photo of a sports car.']
    write_plan(out_dir, compute_plan(CLASSES, [6, 3, 1], target_count=7))
    with pytest.raises(StageError, match='too few prompts'):
        read_prompts(out_dir, read_plan(out_dir))


def test_llm_prompts_diverse_cached_and_key_never_stored(out_dir,
                                                         monkeypatch):
    monkeypatch.setenv('SAU_TEST_LLM_KEY', 'sk-very-secret-42')
    with FakeLLM() as server:
        client = llm(server.base_url, 'normal')
        assert client.messages('sports_car')[1]['content'].startswith(
            'What the sports car looks like?')
        doc = make_prompts(out_dir, read_plan(out_dir), mode='llm',
                           client=client, workers=4)
        assert server.count('normal') == 8
        assert server.requests[0]['authorization'] == \
            'Bearer sk-very-secret-42'
        prompts = doc['prompts']
        assert [len(p) for p in prompts] == [0, 3, 5]
        for name, ps in zip(CLASSES, prompts):
            assert len({dedup_key(p) for p in ps}) == len(ps)
            assert all(name.replace('_', ' ') in p for p in ps)
        # a rerun pays nothing; a bigger plan pays only for the new prompts
        make_prompts(out_dir, read_plan(out_dir), mode='llm', client=client)
        assert server.count('normal') == 8
        write_plan(out_dir, compute_plan(CLASSES, [6, 3, 1], target_count=7))
        make_prompts(out_dir, read_plan(out_dir), mode='llm', client=client)
        assert server.count('normal') == 11
        assert read_prompts(out_dir, read_plan(out_dir))[1][:3] == \
            prompts[1]
    for path in glob.glob(osp.join(out_dir, '**', '*'), recursive=True):
        if osp.isfile(path):
            assert 'sk-very-secret' not in open(path).read(), path


def test_llm_retries_slow_and_failing_answers(out_dir):
    with FakeLLM(slow_seconds=2.0) as server:
        slow = llm(server.base_url, 'slow-1', timeout=0.5)
        assert 'sports car' in slow.ask('sports_car')
        assert slow.stats['retries'] == 1
        flaky = llm(server.base_url, 'error-2')
        assert 'ship' in flaky.ask('ship')
        assert server.count('error-2') == 3
        doc = make_prompts(out_dir, read_plan(out_dir), mode='llm',
                           client=llm(server.base_url, 'repeat-3'),
                           workers=1, max_duplicate_retries=3)
        assert len({dedup_key(p) for p in doc['prompts'][2]}) == 5
        long = llm(server.base_url, 'long', max_words=20)
        assert len(long.ask('ship').split()) == 20


@pytest.mark.parametrize('model, message', [
    ('garbage', 'not an OpenAI chat completion'),
    ('empty', 'empty message content'),
    ('unauthorized', r'HTTP 401.*\$SAU_TEST_LLM_KEY'),
])
def test_llm_bad_answers_give_clear_errors(model, message):
    with FakeLLM() as server:
        with pytest.raises(PromptEndpointError, match=message) as err:
            llm(server.base_url, model, max_retries=2).ask('cat')
        assert server.base_url in str(err.value)
        assert server.count(model) == (1 if model == 'unauthorized' else 3)


def test_llm_dead_port_names_the_url(out_dir):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    url = f'http://127.0.0.1:{port}/v1'
    with pytest.raises(PromptEndpointError,
                       match=f'{url} cannot be reached.*--base-url'):
        make_prompts(out_dir, read_plan(out_dir), mode='llm',
                     client=llm(url, 'normal', max_retries=1))
    assert cli.main(['prompts', '--out-dir', out_dir, '--mode', 'llm',
                     '--base-url', url, '--model', 'normal', '--retries',
                     '0']) == 1
    log = open(sorted(glob.glob(osp.join(out_dir, 'logs',
                                         'prompts_*.log')))[-1]).read()
    assert 'cannot be reached' in log and url in log


def test_llm_prompts_from_the_cli_and_torn_cache_line(out_dir):
    with FakeLLM() as server:
        argv = ['prompts', '--out-dir', out_dir, '--mode', 'llm',
                '--base-url', server.base_url, '--model', 'normal',
                '--backoff', '0.01', '--workers', '2']
        assert cli.main(argv) == 0
        cache = osp.join(out_dir, PROMPT_CACHE)
        rows = open(cache).read().splitlines()
        assert len(rows) == 8
        # a writer killed mid-line: the torn row is asked again, others kept
        with open(cache, 'w') as f:
            f.write('\n'.join(rows[:-1]) + '\n' + rows[-1][:20])
        assert cli.main(argv) == 0
        assert server.count('normal') == 9
        lines = open(cache).read().splitlines()
        assert [json.loads(x) for x in lines if x != rows[-1][:20]]
        doc = json.load(open(osp.join(out_dir, 'prompts.json')))
        assert [len(p) for p in doc['prompts']] == [0, 3, 5]
